import { auditPage, deliveriesPage } from '../services/console';
import { consoleDeps, consoleHandler } from './console-web';

/** `GET /console/deliveries` (the tenant's delivery counters by day) and `GET /console/audit` (admins). */
export const handler = consoleHandler('reports', consoleDeps, [
  { pattern: /^\/console\/deliveries$/, GET: deliveriesPage },
  { pattern: /^\/console\/audit$/, GET: auditPage },
]);
