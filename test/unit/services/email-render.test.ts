import { EmailRenderError, renderDailyMail, renderMail } from '../../../lambdas/services/email-render';

const links = {
  unsubscribe: 'https://api.town.example.jp/email/town/unsubscribe?token=u.1',
  preferences: 'https://api.town.example.jp/email/town/preferences?token=p.1',
};
const daily = (texts: string[], tenantName = 'みなと市') =>
  renderDailyMail({ tenantName, subject: '12月1日のメッセージ', texts, links });

describe('the daily mail', () => {
  it('has a text part and an HTML part with every message', () => {
    const mail = daily(['妊娠100日目のメッセージ', '【みなと市から】両親学級のお知らせ']);
    for (const part of [mail.text, mail.html]) {
      expect(part).toContain('妊娠100日目のメッセージ');
      expect(part).toContain('【みなと市から】両親学級のお知らせ');
      expect(part).toContain('みなと市');
    }
    expect(mail.html).toMatch(/^<!DOCTYPE html>/);
    expect(mail.text).not.toContain('<');
    expect(mail.subject).toBe('12月1日のメッセージ');
  });

  it('carries the RFC 8058 headers naming the unsubscribe link', () => {
    expect(daily(['a']).headers).toEqual([
      { name: 'List-Unsubscribe', value: `<${links.unsubscribe}>` },
      { name: 'List-Unsubscribe-Post', value: 'List-Unsubscribe=One-Click' },
    ]);
  });

  it('shows both links in both parts', () => {
    const mail = daily(['a']);
    expect(mail.text).toContain(`配信を停止する: ${links.unsubscribe}`);
    expect(mail.text).toContain(`配信の設定・お休み: ${links.preferences}`);
    // In HTML attributes `=` is written as an entity; a browser reads the same URL.
    const hrefs = [...mail.html.matchAll(/href="([^"]*)"/g)].map((m) =>
      m[1]!.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&'),
    );
    expect(hrefs).toEqual([links.preferences, links.unsubscribe]);
  });

  it.each([
    { label: 'markup in a message', text: '<script>alert(1)</script>', raw: '<script>' },
    { label: 'an ampersand and quotes', text: 'A & B "C" \'D\'', raw: '"C"' },
    { label: 'an image tag in a nickname', text: 'ゆい<img src=x onerror=alert(1)>ちゃん', raw: '<img' },
  ])('escapes $label in the HTML part and keeps it as typed in the text part', ({ text, raw }) => {
    const mail = daily([text]);
    expect(mail.html).not.toContain(raw);
    expect(mail.text).toContain(text);
  });

  it('escapes the tenant name too', () => {
    expect(daily(['a'], '<b>町</b>').html).toContain('&lt;b&gt;町&lt;/b&gt;');
  });

  it('keeps line breaks inside a message as <br> and messages as paragraphs', () => {
    const mail = daily(['一行目\n二行目', '次の段落']);
    expect(mail.html).toContain('一行目<br>二行目</p>');
    expect(mail.html.match(/<p style="margin:0 0 16px;">/g)).toHaveLength(2);
    expect(mail.text).toContain('一行目\n二行目\n\n次の段落');
  });

  it.each([
    { label: 'a javascript: link', url: 'javascript:alert(1)' },
    { label: 'a data: link', url: 'data:text/html,hi' },
    { label: 'no URL at all', url: 'not a url' },
  ])('refuses $label', ({ url }) => {
    expect(() =>
      renderDailyMail({ tenantName: 't', subject: 's', texts: ['a'], links: { ...links, unsubscribe: url } }),
    ).toThrow(EmailRenderError);
  });

  it('refuses a subject that would break out of its header', () => {
    expect(() => renderDailyMail({ tenantName: 't', subject: 's\r\nBcc: x@example.jp', texts: ['a'], links })).toThrow(
      EmailRenderError,
    );
  });
});

describe('a transactional mail (the sign-up confirmation)', () => {
  const mail = renderMail({
    tenantName: 'みなと市',
    subject: 'ご登録の確認',
    paragraphs: ['下のボタンを押すと登録が完了します。'],
    actions: [{ label: '登録を完了する', url: 'https://api.town.example.jp/email/town/confirm?token=c.1' }],
  });

  it('has the button in HTML and the bare URL in text, and no unsubscribe headers', () => {
    expect(mail.html).toContain('href="https://api.town.example.jp/email/town/confirm?token&#x3D;c.1"');
    expect(mail.html).toContain('登録を完了する');
    expect(mail.text).toContain('登録を完了する:\nhttps://api.town.example.jp/email/town/confirm?token=c.1');
    expect(mail.headers).toEqual([]);
    expect(mail.text).not.toContain('配信を停止する');
  });
});
