import { callback, signIn, signOut } from '../services/console-access';
import { consoleAccessDeps, consoleHandler } from './console-web';

/** `GET /console/signin`, `GET /console/callback`, `POST /console/signout`: the session's start and end. */
export const handler = consoleHandler('auth', consoleAccessDeps, [
  { pattern: /^\/console\/signin$/, GET: signIn },
  { pattern: /^\/console\/callback$/, GET: callback },
  { pattern: /^\/console\/signout$/, POST: signOut },
]);
