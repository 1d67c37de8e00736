/** restJson1 route matching: `{name}` placeholders match one path segment, URL-decoded. */
import type { RestRoute } from '../types';

export interface RouteMatch {
  route: RestRoute;
  params: Record<string, string>;
}

export function matchRoute(routes: RestRoute[], method: string, pathname: string): RouteMatch | undefined {
  const segments = splitPath(pathname);
  let best: (RouteMatch & { literals: number }) | undefined;
  for (const route of routes) {
    if (route.method !== method) continue;
    const pattern = splitPath(route.path);
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    let literals = 0;
    for (let i = 0; i < pattern.length && ok; i++) {
      const p = pattern[i] as string;
      const s = segments[i] as string;
      const name = /^\{([^}]+)\}$/.exec(p)?.[1];
      if (name) params[name] = safeDecode(s);
      else {
        ok = p === s;
        literals++;
      }
    }
    // `/clusters/{name}/updates` and `/clusters/{name}/{sub}` both match: the more literal one wins.
    if (ok && (!best || literals > best.literals)) best = { route, params, literals };
  }
  return best && { route: best.route, params: best.params };
}

function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
