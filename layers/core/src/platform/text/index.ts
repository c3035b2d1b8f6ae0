export * from './utf8-bytes';
