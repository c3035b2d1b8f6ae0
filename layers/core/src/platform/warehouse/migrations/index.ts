export { migrations, type Migration } from './migrations';
