import type { Page } from 'playwright-core';
import type { TestStack } from './helpers';

/** A demo staff login of the local identity provider (one staff and one admin per tenant). */
export const consoleLogin = (stack: TestStack, tenantId: string, role: 'staff' | 'admin') =>
  stack.console!.logins.find((l) => l.tenantId === tenantId && l.role === role)!;

/** Signs in through the local identity provider's form, as staff would: the console's inbox is where it lands. */
export async function consoleSignIn(
  stack: TestStack,
  page: Page,
  tenantId: string,
  role: 'staff' | 'admin' = 'staff',
): Promise<void> {
  await page.goto(`${stack.console!.url}/inbox`);
  // No session: off to the identity provider's sign-in form.
  await page.waitForURL(/\/interaction\//);
  const who = consoleLogin(stack, tenantId, role);
  await page.fill('#username', who.username);
  await page.fill('#password', who.password);
  await Promise.all([page.waitForURL(/\/console\/inbox$/), page.click('button[type=submit]')]);
}
