// Just enough of PNG to tell a real screenshot from a blank one: decodes
// 8-bit RGB/RGBA non-interlaced images (what Chromium writes) and counts
// their distinct colours.
import fs from "node:fs";
import zlib from "node:zlib";

export function decodePng(buf) {
    if (buf.readUInt32BE(0) !== 0x89504e47)
        throw new Error("not a PNG");
    let off = 8;
    let width = 0, height = 0, depth = 0, type = 0, interlace = 0;
    const idat = [];
    while (off < buf.length) {
        const len = buf.readUInt32BE(off);
        const kind = buf.toString("latin1", off + 4, off + 8);
        const data = buf.subarray(off + 8, off + 8 + len);
        if (kind === "IHDR") {
            width = data.readUInt32BE(0);
            height = data.readUInt32BE(4);
            depth = data[8];
            type = data[9];
            interlace = data[12];
        } else if (kind === "IDAT") {
            idat.push(data);
        } else if (kind === "IEND") {
            break;
        }
        off += 12 + len;
    }
    if (depth !== 8 || (type !== 2 && type !== 6) || interlace)
        throw new Error(`unsupported PNG: depth ${depth} type ${type} interlace ${interlace}`);
    const bpp = type === 6 ? 4 : 3;
    const raw = zlib.inflateSync(Buffer.concat(idat));
    const stride = width * bpp;
    const out = Buffer.alloc(height * stride);
    for (let y = 0; y < height; y++) {
        const f = raw[y * (stride + 1)];
        const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
        const cur = out.subarray(y * stride, (y + 1) * stride);
        const prev = y > 0 ? out.subarray((y - 1) * stride, y * stride) : null;
        for (let x = 0; x < stride; x++) {
            const a = x >= bpp ? cur[x - bpp] : 0;
            const b = prev ? prev[x] : 0;
            const c = prev && x >= bpp ? prev[x - bpp] : 0;
            let v = src[x];
            if (f === 1) v += a;
            else if (f === 2) v += b;
            else if (f === 3) v += (a + b) >> 1;
            else if (f === 4) {
                const p = a + b - c;
                const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
                v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
            }
            cur[x] = v & 255;
        }
    }
    return { width, height, bpp, pixels: out };
}

export function pngStats(file) {
    const img = decodePng(fs.readFileSync(file));
    const colours = new Set();
    let nonWhite = 0;
    const n = img.width * img.height;
    for (let i = 0; i < n; i++) {
        const o = i * img.bpp;
        const r = img.pixels[o], g = img.pixels[o + 1], b = img.pixels[o + 2];
        colours.add((r << 16) | (g << 8) | b);
        if (r < 240 || g < 240 || b < 240)
            nonWhite++;
    }
    return { width: img.width, height: img.height, colours: colours.size, inkRatio: nonWhite / n };
}

// A screenshot of a rendered page has text, borders and PatternFly's
// colours: hundreds of colours (antialiasing) and some ink.
export function assertNotBlank(file, minColours = 50) {
    const s = pngStats(file);
    if (s.colours < minColours || s.inkRatio < 0.01)
        throw new Error(`${file} looks blank: ${s.colours} colours, ${(s.inkRatio * 100).toFixed(2)}% non-white pixels`);
    return s;
}
