import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ConsoleResult, ConsoleView } from '../services/console-access';
import {
  CONSOLE_HEADERS,
  CONSOLE_MENU,
  LAYOUT_END,
  LAYOUT_START,
  PROBLEM_PAGE,
  PROBLEMS,
  type ConsolePage,
} from './console-layout';
import { BROADCAST_PAGES } from './console-broadcast-pages';
import { CORE_PAGES } from './console-core-pages';
import { INQUIRY_PAGES } from './console-inquiry-pages';
import { RESULTS_PAGES } from './console-results-pages';
import { KPI_PAGES } from './console-kpi-pages';

/**
 * Every console page by its view's name. A new page: its template in a file of its own, one line here (the type
 * check then insists that every view in `ConsoleView` has its template).
 */
const PAGES: Record<ConsoleView['page'], ConsolePage> = {
  ...CORE_PAGES,
  ...RESULTS_PAGES,
  ...KPI_PAGES,
  ...INQUIRY_PAGES,
  ...BROADCAST_PAGES,
  problem: PROBLEM_PAGE,
};

/** The HTTP API answer for a console result: a redirect, or a page; cookies as HTTP API `cookies`. */
export function renderConsole(result: ConsoleResult): APIGatewayProxyStructuredResultV2 {
  const cookies = result.cookies?.length ? { cookies: result.cookies } : {};
  if (result.location)
    return {
      statusCode: result.status,
      headers: { location: result.location, 'cache-control': 'no-store' },
      ...cookies,
    };
  const view = result.view ?? { page: 'problem', problem: 'not-found' };
  const page = PAGES[view.page];
  const context = {
    view,
    staff: result.staff,
    csrf: result.csrf,
    problem: view.page === 'problem' ? PROBLEMS[view.problem] : undefined,
  };
  const menu = result.staff ? CONSOLE_MENU.filter((m) => !m.admin || result.staff?.role === 'admin') : [];
  const layout = { ...context, title: page.title, menu };
  const html = LAYOUT_START(layout) + page.body(context) + LAYOUT_END(layout);
  return { statusCode: result.status, headers: CONSOLE_HEADERS, body: html, ...cookies };
}
