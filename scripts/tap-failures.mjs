// What failed in a tap run, short enough to sit at the end of CI's output: CI keeps only the last few kilobytes of a
// 14-minute log, and a failure printed in the middle of it (a lab file that ended 6 minutes before the summary line)
// was cut off, so a red run named nothing. Pure: tap's text in, report lines out.

const SUBTEST = /^( *)# Subtest: (.*)$/;
const NOT_OK = /^( *)not ok \d+ - (.*?)(?: # time=[\d.]+ms)?$/;
const TIMED = / # time=[\d.]+ms$/;
const COMMENT = /^( *)# (?!Subtest: |time=|\{ total: )(.*)$/;
/** YAML keys of a failed point worth a line: what was compared, where, and how a process ended. */
const KEPT_KEYS = /^(found|wanted|compare|lineNumber|message|signal|exitCode|expired|timeout|code|errno|syscall):/;

const clip = (text, width) => (text.length > width ? `${text.slice(0, width - 1)}…` : text);

/**
 * Reads a tap stream and returns one entry per failed point: its path of subtest names, the YAML lines that say why
 * (diff lines, found/wanted, line number, signal), and the comments of the subtest it failed in. A subtest that failed
 * with no failed point inside (a timeout, a crash, a missing plan) is an entry of its own.
 */
export function failuresOf(output) {
  const lines = output.split('\n');
  /** Subtest names by depth (indent / 4). */
  const names = [];
  /** Per depth: the failed points recorded when that subtest started, and its comments. */
  const opened = [];
  const failures = [];
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index];
    const subtest = SUBTEST.exec(line);
    if (subtest !== null) {
      const depth = subtest[1].length / 4;
      names.length = depth;
      names[depth] = subtest[2];
      opened.length = depth + 1;
      // The subtest's points and comments are indented one level deeper than its `# Subtest:` line.
      opened[depth + 1] = { failuresBefore: failures.length, comments: [] };
      continue;
    }
    const comment = COMMENT.exec(line);
    if (comment !== null) {
      opened[comment[1].length / 4]?.comments.push(comment[2]);
      continue;
    }
    const notOk = NOT_OK.exec(line);
    if (notOk === null) continue;
    const depth = notOk[1].length / 4;
    const isSubtest = TIMED.test(line) || names[depth] === notOk[2];
    const inner = opened[depth + 1];
    // A failed subtest whose failed points are already listed adds nothing.
    if (isSubtest && inner !== undefined && failures.length > inner.failuresBefore) continue;
    const why = [];
    const yamlIndent = `${notOk[1]}  `;
    if (lines[index + 1] === `${yamlIndent}---`) {
      let inDiff = false;
      for (index += 2; index < lines.length && lines[index] !== `${yamlIndent}...`; index += 1) {
        const field = lines[index].slice(yamlIndent.length);
        if (/^\S/.test(field)) inDiff = field.startsWith('diff:');
        const value = field.trim();
        if (inDiff && /^[-+](?![-+]{2})/.test(value)) why.push(value);
        else if (/^\S/.test(field) && KEPT_KEYS.test(value)) why.push(value);
        else if (/^ {2}\S/.test(field) && KEPT_KEYS.test(value)) why.push(value);
      }
    }
    failures.push({
      path: [...names.slice(0, depth), notOk[2]],
      why,
      // A subtest that died says where it was in the comments of its last, deepest subtests.
      comments: isSubtest ? opened.slice(depth + 1).flatMap((level) => level?.comments ?? []) : (opened[depth]?.comments ?? []),
    });
  }
  return failures;
}

/**
 * The failures of several tap runs as `#` lines within `maxChars`: every failed point's name and reason first, then
 * the comments of the subtests they failed in (the last 40 of each, last ones first kept), as many as fit.
 */
export function failureReport(runs, { maxChars = 7000, width = 300, maxEntries = 30 } = {}) {
  const found = runs.flatMap(({ label, output }) => failuresOf(output).map((failure) => ({ label, ...failure })));
  if (found.length === 0) return [];
  const entries = found.slice(0, maxEntries);
  const head = entries.map((entry) => {
    const lines = [`# ✗ ${clip([entry.label, ...entry.path].filter(Boolean).join(' › '), width)}`];
    for (const reason of entry.why.slice(0, 8)) lines.push(`#     ${clip(reason, width - 6)}`);
    return lines;
  });
  let used = head.flat().join('\n').length;
  const commentsOf = entries.map(() => []);
  const seen = new Set();
  // One subtest's comments once, however many of its points failed; the last comments say the most (its diagnosis).
  entries.forEach((entry, at) => {
    if (seen.has(entry.comments)) return;
    seen.add(entry.comments);
    for (const comment of entry.comments.slice(-40).reverse()) {
      const line = `#   | ${clip(comment, width - 6)}`;
      if (used + line.length + 1 > maxChars) return;
      used += line.length + 1;
      commentsOf[at].unshift(line);
    }
  });
  const report = [`# natgw test: ${found.length} failed point(s), with the comments of where they failed:`];
  head.forEach((lines, at) => {
    report.push(lines[0], ...commentsOf[at], ...lines.slice(1));
  });
  if (found.length > entries.length) report.push(`# … and ${found.length - entries.length} more (above, as "not ok")`);
  return report;
}
