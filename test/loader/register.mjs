import { register } from 'node:module';
process.setSourceMapsEnabled(true);
register('./ts-hooks.mjs', import.meta.url);
