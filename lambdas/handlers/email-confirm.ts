import { confirmSignup, showConfirm } from '../services/email-pages';
import { pageHandler } from './email-web';

/** `GET /email/{tenantId}/confirm` shows a button; only its POST confirms (mail scanners open every link). */
export const handler = pageHandler('confirm', { GET: showConfirm, POST: confirmSignup });
