export { trackObject } from './track-object';
