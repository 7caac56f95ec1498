import { auditPage, deliveriesPage } from '../services/console';
import { consoleHandler } from './console-web';

/** `GET /console/deliveries` (the tenant's delivery counters by day) and `GET /console/audit` (admins). */
export const handler = consoleHandler('reports', [
  { pattern: /^\/console\/deliveries$/, GET: deliveriesPage },
  { pattern: /^\/console\/audit$/, GET: auditPage },
]);
