import { showPreferences, submitPreferences } from '../services/email-pages';
import { pageHandler } from './email-web';

/** `GET|POST /email/{tenantId}/preferences`: everything the LINE menu offers, as forms. */
export const handler = pageHandler('preferences', { GET: showPreferences, POST: submitPreferences });
