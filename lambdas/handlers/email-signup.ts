import { showSignup, submitSignup } from '../services/email-pages';
import { pageHandler } from './email-web';

/** `GET|POST /email/{tenantId}/signup`: the form, and the double opt-in's first step. */
export const handler = pageHandler('signup', { GET: showSignup, POST: submitSignup });
