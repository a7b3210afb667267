export { version } from '../common/version.js';
