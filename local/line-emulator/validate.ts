// LINE's documented request limits. Messages follow LINE's error style ("The request body has N error(s)" with
// per-property details); the exact wording of some details is our best reconstruction, the limits are not.

export interface ErrorDetail {
  message: string;
  property: string;
}

export const LINE_USER_ID = /^U[0-9a-f]{32}$/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const MESSAGE_TYPES = [
  'text',
  'textV2',
  'sticker',
  'image',
  'video',
  'audio',
  'location',
  'imagemap',
  'template',
  'flex',
];
// Template and imagemap alt text are capped at 400 characters; flex at 1,500.
const ALT_TEXT_MAX: Record<string, number> = { template: 400, imagemap: 400, flex: 1500 };
const TEXT_MAX = 5000;
const QUICK_REPLY_MAX = 13;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function validateMessages(messages: unknown): ErrorDetail[] {
  if (!Array.isArray(messages) || messages.length < 1 || messages.length > 5) {
    return [{ message: 'Size must be between 1 and 5', property: 'messages' }];
  }
  return messages.flatMap((m, i) => validateMessage(m, `messages[${i}]`));
}

function validateMessage(m: unknown, at: string): ErrorDetail[] {
  if (!isObject(m) || typeof m.type !== 'string' || !MESSAGE_TYPES.includes(m.type)) {
    return [{ message: `Must be one of the following values: [${MESSAGE_TYPES.join(', ')}]`, property: `${at}.type` }];
  }
  const errors: ErrorDetail[] = [];
  if (m.type === 'text' || m.type === 'textV2') {
    // JS string length is UTF-16 code units, which is how LINE counts (an emoji outside the BMP counts 2).
    if (typeof m.text !== 'string' || m.text.length === 0)
      errors.push({ message: 'May not be empty', property: `${at}.text` });
    else if (m.text.length > TEXT_MAX)
      errors.push({ message: `Length must be between 0 and ${TEXT_MAX}`, property: `${at}.text` });
  }
  const altMax = ALT_TEXT_MAX[m.type];
  if (altMax !== undefined) {
    if (typeof m.altText !== 'string' || m.altText.length === 0)
      errors.push({ message: 'May not be empty', property: `${at}.altText` });
    else if (m.altText.length > altMax)
      errors.push({ message: `Length must be between 0 and ${altMax}`, property: `${at}.altText` });
  }
  if (m.quickReply !== undefined) {
    const items = isObject(m.quickReply) ? m.quickReply.items : undefined;
    if (!Array.isArray(items) || items.length < 1 || items.length > QUICK_REPLY_MAX) {
      errors.push({ message: `Size must be between 1 and ${QUICK_REPLY_MAX}`, property: `${at}.quickReply.items` });
    } else {
      items.forEach((item, j) => {
        if (!isObject(item) || !isObject(item.action) || typeof item.action.type !== 'string') {
          errors.push({ message: 'May not be null', property: `${at}.quickReply.items[${j}].action` });
        }
      });
    }
  }
  return errors;
}

export function validateMulticastTo(to: unknown): ErrorDetail[] {
  if (!Array.isArray(to) || to.length < 1 || to.length > 500)
    return [{ message: 'Size must be between 1 and 500', property: 'to' }];
  return to.flatMap((id, i) =>
    typeof id === 'string' && LINE_USER_ID.test(id) ? [] : [{ message: 'Invalid user ID', property: `to[${i}]` }],
  );
}

export function validateRichMenu(body: unknown): ErrorDetail[] {
  if (!isObject(body)) return [{ message: 'Must be an object', property: '' }];
  const errors: ErrorDetail[] = [];
  const size = isObject(body.size) ? body.size : {};
  if (size.width !== 2500 || (size.height !== 1686 && size.height !== 843)) {
    errors.push({ message: 'Must be 2500x1686 or 2500x843', property: 'size' });
  }
  if (typeof body.selected !== 'boolean') errors.push({ message: 'May not be null', property: 'selected' });
  if (typeof body.name !== 'string' || body.name.length < 1 || body.name.length > 300) {
    errors.push({ message: 'Length must be between 1 and 300', property: 'name' });
  }
  if (typeof body.chatBarText !== 'string' || body.chatBarText.length < 1 || body.chatBarText.length > 14) {
    errors.push({ message: 'Length must be between 1 and 14', property: 'chatBarText' });
  }
  if (!Array.isArray(body.areas) || body.areas.length < 1 || body.areas.length > 20) {
    errors.push({ message: 'Size must be between 1 and 20', property: 'areas' });
  } else {
    body.areas.forEach((a, i) => {
      if (!isObject(a) || !isObject(a.bounds) || !isObject(a.action))
        errors.push({ message: 'May not be null', property: `areas[${i}]` });
    });
  }
  return errors;
}
