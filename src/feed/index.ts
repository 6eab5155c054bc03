export { createJournal, feedStream, type Journal, type JournalEntry, type StoredEntry } from './journal.js';
export { attachFeed, CLOSE, FEED_PATH, type FeedServer } from './server.js';
export { feedRoutes } from './routes.js';
export * from './protocol.js';
