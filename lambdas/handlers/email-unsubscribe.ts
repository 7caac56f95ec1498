import { showUnsubscribe, unsubscribe } from '../services/email-pages';
import { pageHandler } from './email-web';

/** `POST /email/{tenantId}/unsubscribe`: RFC 8058 one-click; a GET shows a page with a button instead. */
export const handler = pageHandler('unsubscribe', { GET: showUnsubscribe, POST: unsubscribe });
