// docs/prometheus.md's scrape configuration is one a real Prometheus accepts: promtool checks the block as written,
// with the alert rules it names.
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { hasPromtool } from './helpers/promtool.js';

const repo = path.resolve(import.meta.dirname, '..');

t.test(
  'docs/prometheus.md: promtool check config accepts the scrape configuration',
  { skip: hasPromtool ? false : 'promtool is not installed (apt-get install prometheus)' },
  async (t) => {
    const doc = readFileSync(path.join(repo, 'docs/prometheus.md'), 'utf8');
    const block = /<!-- prometheus\.yml -->\n```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    if (block === undefined) return t.fail('docs/prometheus.md has no <!-- prometheus.yml --> yaml block');
    t.match(block, /gce_sd_configs:/, 'it discovers the NAT VMs through GCE');
    t.match(block, /labels\.managed-by = "natgw"/, "filtered on natgw's label");
    t.match(block, /port: 9731/, "on the agent's port");
    const dir = t.testdir();
    writeFileSync(path.join(dir, 'prometheus.yml'), block);
    copyFileSync(path.join(repo, 'observability/alerts.yml'), path.join(dir, 'alerts.yml'));
    let output: string;
    try {
      output = execFileSync('promtool', ['check', 'config', path.join(dir, 'prometheus.yml')], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      const failure = error as { stdout?: string; stderr?: string };
      return t.fail(`promtool check config refused it:\n${failure.stdout ?? ''}${failure.stderr ?? ''}`);
    }
    t.match(output, /SUCCESS/, 'promtool: SUCCESS');
    // The check can fail: the same block with a misspelt key is refused.
    writeFileSync(path.join(dir, 'broken.yml'), block.replace('gce_sd_configs', 'gce_sd_config'));
    t.throws(
      () => execFileSync('promtool', ['check', 'config', path.join(dir, 'broken.yml')], { stdio: 'ignore' }),
      'a misspelt key is refused',
    );
  },
);
