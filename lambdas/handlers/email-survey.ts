import { showSurvey, submitSurvey } from '../services/survey-page';
import { pageHandler } from './email-web';

/** `GET|POST /email/{tenantId}/survey?t=<token>`: an email reader answers a survey or a screening. */
export const handler = pageHandler('survey', { GET: showSurvey, POST: submitSurvey });
