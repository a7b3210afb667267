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
    // A point marked TODO may fail without failing the run.
    if (notOk === null || / # TODO\b/.test(line)) continue;
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
 * The failures of several tap runs (each `{ output, label?, code?, stderr? }`, runs that failed) as `#` lines within `maxChars`:
 * every failed point's name and reason first (as many as fit in 60 % of it), then the comments of the subtests they
 * failed in, each subtest an equal share of the rest (its last 40, the last ones kept first). A run that failed with no
 * failed point in its output (a crash before any) is named by its label and exit code, with its last lines and those
 * of its stderr.
 */
export function failureReport(runs, { maxChars = 7000, width = 300 } = {}) {
  const found = runs.flatMap(({ label, output, code, stderr = '' }) => {
    const failures = failuresOf(output);
    if (failures.length > 0 || code === undefined || code === 0) return failures;
    const lastLines = (text, count) =>
      text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .slice(-count);
    // A runner that died before its first line (tap's own start) said why on stderr only.
    const said = [...lastLines(output, 5), ...lastLines(stderr, 15).map((line) => `stderr: ${line}`)];
    return [{ path: [`${label ?? 'a tap run'}: exit ${code}, no failed point in its output`], why: [], comments: said }];
  });
  if (found.length === 0) return [];
  const entries = [];
  let used = 0;
  for (const entry of found) {
    const lines = [clip(`# ✗ ${entry.path.join(' › ')}`, width)];
    for (const reason of entry.why.slice(0, 8)) lines.push(clip(`#     ${reason}`, width));
    const size = lines.join('\n').length + 1;
    if (entries.length > 0 && used + size > maxChars * 0.6) break;
    used += size;
    entries.push({ ...entry, lines });
  }
  const groups = new Set(entries.map((entry) => entry.comments).filter((comments) => comments.length > 0));
  const share = groups.size === 0 ? 0 : Math.floor((maxChars - used - 200) / groups.size);
  const commentsOf = new Map();
  // One subtest's comments once, however many of its points failed; the last comments say the most (its diagnosis).
  for (const comments of groups) {
    const kept = [];
    let spent = 0;
    for (const comment of comments.slice(-40).reverse()) {
      const line = clip(`#   | ${comment}`, width);
      if (spent + line.length + 1 > share) break;
      spent += line.length + 1;
      kept.unshift(line);
    }
    commentsOf.set(comments, kept);
  }
  const report = [`# natgw test: ${found.length} failed point(s), with the comments of where they failed:`];
  const shown = new Set();
  for (const entry of entries) {
    const comments = shown.has(entry.comments) ? [] : (commentsOf.get(entry.comments) ?? []);
    shown.add(entry.comments);
    report.push(entry.lines[0], ...comments, ...entry.lines.slice(1));
  }
  if (found.length > entries.length) report.push(`# … and ${found.length - entries.length} more (above, as "not ok")`);
  return report;
}
