export { UsageError, exitCode, EXIT } from '../common/errors.js';
