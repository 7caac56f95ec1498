import { deflateSync, crc32 } from 'node:zlib';
import { messagingApi } from '@line/bot-sdk';
import { postbackData } from '../domain/replies';

/** The menu every tenant gets: 3 x 2 areas whose postbacks the conversation understands (`a=menu&m=...`). */
export const RICH_MENU_AREAS = [
  { label: '登録内容の確認・変更', m: 'settings' },
  { label: '子どもを追加', m: 'add' },
  { label: '出産のご報告', m: 'birth' },
  { label: 'パートナー招待', m: 'invite' },
  { label: 'お休み', m: 'pause' },
  { label: 'その他', m: 'more' },
] as const;

const WIDTH = 2500;
const HEIGHT = 1686;

export function richMenuRequest(tenantName: string): messagingApi.RichMenuRequest {
  const w = Math.floor(WIDTH / 3);
  const h = HEIGHT / 2;
  return {
    size: { width: WIDTH, height: HEIGHT },
    selected: true,
    name: `${tenantName} メニュー`.slice(0, 300),
    chatBarText: 'メニュー',
    areas: RICH_MENU_AREAS.map((a, i) => ({
      bounds: { x: (i % 3) * w, y: Math.floor(i / 3) * h, width: i % 3 === 2 ? WIDTH - 2 * w : w, height: h },
      action: { type: 'postback', label: a.label, data: postbackData('menu', { m: a.m }), displayText: a.label },
    })),
  };
}

/**
 * A placeholder menu image: six coloured panels, PNG. Municipalities supply their own designed image with
 * `--image`; text cannot be drawn without a font, and a PNG of flat colours needs no image library.
 */
export function placeholderMenuImage(): Buffer {
  const colours = [
    [0xf6, 0xc4, 0xc4],
    [0xf9, 0xe0, 0xae],
    [0xc8, 0xe6, 0xc9],
    [0xbb, 0xde, 0xfb],
    [0xe1, 0xbe, 0xe7],
    [0xd7, 0xcc, 0xc8],
  ];
  const row = Buffer.alloc(1 + WIDTH * 3);
  const rows: Buffer[] = [];
  for (let y = 0; y < HEIGHT; y++) {
    const r = Math.floor(y / (HEIGHT / 2));
    for (let x = 0; x < WIDTH; x++) {
      const border = x % Math.floor(WIDTH / 3) < 6 || y % (HEIGHT / 2) < 6;
      const c = border ? [255, 255, 255] : colours[r * 3 + Math.min(2, Math.floor(x / Math.floor(WIDTH / 3)))]!;
      row[1 + x * 3] = c[0]!;
      row[2 + x * 3] = c[1]!;
      row[3 + x * 3] = c[2]!;
    }
    rows.push(Buffer.from(row));
  }
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(WIDTH, 0);
  ihdr.writeUInt32BE(HEIGHT, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows), { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Creates the menu, uploads its image and makes it every user's default. Returns the rich menu id. */
export async function installRichMenu(opts: {
  channelAccessToken: string;
  baseURL?: string;
  dataBaseURL?: string;
  tenantName: string;
  image?: Buffer;
  imageType?: string;
}): Promise<string> {
  const api = new messagingApi.MessagingApiClient({
    channelAccessToken: opts.channelAccessToken,
    baseURL: opts.baseURL,
  });
  const blob = new messagingApi.MessagingApiBlobClient({
    channelAccessToken: opts.channelAccessToken,
    baseURL: opts.dataBaseURL ?? opts.baseURL,
  });
  const { richMenuId } = await api.createRichMenu(richMenuRequest(opts.tenantName));
  const image = opts.image ?? placeholderMenuImage();
  await blob.setRichMenuImage(richMenuId, new Blob([new Uint8Array(image)], { type: opts.imageType ?? 'image/png' }));
  await api.setDefaultRichMenu(richMenuId);
  return richMenuId;
}
