export * from './utf8-bytes';
export * from './copy-bytes';
