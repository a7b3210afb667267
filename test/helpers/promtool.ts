// Whether Debian's `prometheus` package (which ships promtool) is installed: CI installs it, a developer's box may not.
import { execFileSync } from 'node:child_process';

export const hasPromtool = (() => {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
