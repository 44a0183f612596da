import { describe, expect, it } from 'vitest';
import {
  BURST_WINDOW_MS,
  classifyEngagement,
  createMachineClassifier,
  MACHINE_RULES,
  MIN_HUMAN_CLICK_DELAY_MS,
  RecentClicks,
  type EngagementRequest,
} from '../../src/tracking/machine.js';

const UA = {
  chrome: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  iphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  appleMailMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)',
  gmailProxy: 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)',
  yahooProxy: 'Mozilla/5.0 (compatible; YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html)',
  outlookDesktop: 'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)',
  msOffice: 'Mozilla/4.0 (compatible; ms-office; MSOffice 16)',
  cubotPhone: 'Mozilla/5.0 (Linux; Android 11; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36',
};

const open = (over: Partial<EngagementRequest> = {}): EngagementRequest => ({
  kind: 'open',
  method: 'GET',
  userAgent: UA.chrome,
  clientIp: '203.0.113.9',
  at: 1_000_000,
  ...over,
});
const click = (over: Partial<EngagementRequest> = {}): EngagementRequest => ({
  kind: 'click',
  method: 'GET',
  userAgent: UA.chrome,
  clientIp: '203.0.113.9',
  at: 1_000_000,
  linkIndex: 0,
  ...over,
});
const reason = (e: EngagementRequest) => classifyEngagement(e).reason ?? null;

describe('machine engagement rules', () => {
  it('counts people, including those behind Gmail, Yahoo and Outlook image loading', () => {
    for (const ua of [UA.chrome, UA.iphone, UA.appleMailMac, UA.gmailProxy, UA.yahooProxy, UA.outlookDesktop, UA.msOffice, UA.cubotPhone]) {
      expect(classifyEngagement(open({ userAgent: ua })), ua).toEqual({ machine: false });
    }
    for (const ua of [UA.chrome, UA.iphone, UA.appleMailMac, UA.cubotPhone]) {
      expect(classifyEngagement(click({ userAgent: ua })), ua).toEqual({ machine: false });
    }
    expect(classifyEngagement(open({ clientIp: '2001:db8::1' }))).toEqual({ machine: false });
    expect(classifyEngagement(open({ clientIp: null }))).toEqual({ machine: false });
  });

  it('flags Apple Mail Privacy Protection opens, by its bare user agent or Apple network', () => {
    expect(classifyEngagement(open({ userAgent: 'Mozilla/5.0' }))).toEqual({ machine: true, reason: 'apple-privacy-proxy' });
    expect(reason(open({ clientIp: '17.58.101.7' }))).toBe('apple-privacy-proxy');
    expect(reason(open({ clientIp: '::ffff:17.58.101.7' }))).toBe('apple-privacy-proxy');
    // MPP never clicks: a click from Apple's network is a person (an Apple employee, say)...
    expect(reason(click({ clientIp: '17.58.101.7' }))).toBeNull();
    // ...but nothing a person clicks with says only "Mozilla/5.0".
    expect(reason(click({ userAgent: 'Mozilla/5.0' }))).toBe('bare-user-agent');
  });

  it('flags HEAD requests and missing user agents', () => {
    expect(reason(open({ method: 'HEAD' }))).toBe('head-request');
    expect(reason(click({ method: 'head' }))).toBe('head-request');
    expect(reason(open({ userAgent: null }))).toBe('no-user-agent');
    expect(reason(click({ userAgent: '  ' }))).toBe('no-user-agent');
  });

  it('flags HTTP libraries, command-line clients and headless browsers', () => {
    const cases: [string, string][] = [
      ['curl/8.4.0', 'http-library'],
      ['Wget/1.21.4', 'http-library'],
      ['python-requests/2.31.0', 'http-library'],
      ['Python-urllib/3.11', 'http-library'],
      ['Go-http-client/1.1', 'http-library'],
      ['Go-http-client/2.0', 'http-library'],
      ['Java/17.0.2', 'http-library'],
      ['Apache-HttpClient/4.5.14 (Java/17)', 'http-library'],
      ['okhttp/4.12.0', 'http-library'],
      ['node', 'http-library'],
      ['axios/1.6.0', 'http-library'],
      ['libwww-perl/6.72', 'http-library'],
      ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36', 'headless-browser'],
      ['Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1', 'headless-browser'],
    ];
    for (const [ua, why] of cases) {
      expect(reason(click({ userAgent: ua })), ua).toBe(why);
      expect(reason(open({ userAgent: ua })), ua).toBe(why);
    }
    expect(reason(click({ userAgent: 'Mozilla/5.0 (compatible; Javascript-thing)' }))).toBeNull();
  });

  it('flags security gateways that name themselves', () => {
    const cases: [string, string][] = [
      ['Mozilla/5.0 (compatible; Barracuda Sentinel)', 'scanner-barracuda'],
      ['Mozilla/5.0 Mimecast URL Protect', 'scanner-mimecast'],
      ['Mozilla/5.0 (compatible; Proofpoint/2.0)', 'scanner-proofpoint'],
      ['Symantec Email Security.cloud link check', 'scanner-symantec'],
      ['Cisco IronPort URL Scanner', 'scanner-cisco'],
      ['Mozilla/5.0 (compatible; Trend Micro Email Security)', 'scanner-trendmicro'],
      ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Microsoft Office Existence Discovery', 'office-link-check'],
      [UA.msOffice, 'office-link-check'],
      ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) BingPreview/1.0b', 'link-preview'],
      ['Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)', 'link-preview'],
      ['facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)', 'link-preview'],
      ['WhatsApp/2.23.20.0 A', 'link-preview'],
      ['Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 'crawler'],
      ['SomeCrawler/1.0 (+https://crawler.example/about)', 'crawler'],
    ];
    for (const [ua, why] of cases) expect(reason(click({ userAgent: ua })), ua).toBe(why);
  });

  it('flags gateways by their networks; Microsoft only for clicks', () => {
    const cases: [string, string][] = [
      ['64.235.150.10', 'scanner-barracuda'],
      ['209.222.82.1', 'scanner-barracuda'],
      ['148.163.150.20', 'scanner-proofpoint'],
      ['67.231.150.1', 'scanner-proofpoint'],
      ['205.139.110.5', 'scanner-mimecast'],
      ['91.220.42.200', 'scanner-mimecast'],
      ['216.82.241.1', 'scanner-symantec'],
      ['85.158.139.1', 'scanner-symantec'],
    ];
    for (const [ip, why] of cases) {
      expect(reason(click({ clientIp: ip })), ip).toBe(why);
      expect(reason(open({ clientIp: ip })), ip).toBe(why);
    }
    for (const ip of ['40.107.22.1', '52.101.3.4', '104.47.10.10', '2a01:111:f400:7e1b::1', '::ffff:40.92.1.1']) {
      expect(reason(click({ clientIp: ip })), ip).toBe('scanner-microsoft');
      expect(reason(open({ clientIp: ip })), ip).toBeNull();
    }
    for (const ip of ['64.235.160.1', '148.163.160.1', '40.109.0.1', '2a01:111:f401::1', 'not-an-ip']) {
      expect(reason(click({ clientIp: ip })), ip).toBeNull();
    }
  });

  it(`flags a click within ${MIN_HUMAN_CLICK_DELAY_MS} ms of delivery, or before it`, () => {
    const at = 5_000_000;
    expect(reason(click({ at, deliveredAt: at - MIN_HUMAN_CLICK_DELAY_MS + 1 }))).toBe('click-too-soon');
    expect(reason(click({ at, deliveredAt: at + 500 }))).toBe('click-too-soon');
    expect(reason(click({ at, deliveredAt: at - MIN_HUMAN_CLICK_DELAY_MS }))).toBeNull();
    expect(reason(click({ at, deliveredAt: null }))).toBeNull();
    // Opens are not judged by speed: Apple's and others' prefetches are caught by who they are.
    expect(reason(open({ at, deliveredAt: at - 10 }))).toBeNull();
  });

  it(`flags clicks on different links of one message within ${BURST_WINDOW_MS} ms`, () => {
    const at = 9_000_000;
    expect(reason(click({ at, linkIndex: 2, recentClicks: [{ linkIndex: 0, at: at - BURST_WINDOW_MS + 1 }] }))).toBe('click-burst');
    expect(reason(click({ at, linkIndex: 2, recentClicks: [{ linkIndex: 0, at: at + 10 }] }))).toBe('click-burst');
    // A person double-clicking one link, or clicking another a while later, is a person.
    expect(reason(click({ at, linkIndex: 2, recentClicks: [{ linkIndex: 2, at: at - 10 }] }))).toBeNull();
    expect(reason(click({ at, linkIndex: 2, recentClicks: [{ linkIndex: 0, at: at - BURST_WINDOW_MS }] }))).toBeNull();
    expect(reason(click({ at, linkIndex: 2, recentClicks: [] }))).toBeNull();
  });

  it('never flags an unsubscribe', () => {
    const e: EngagementRequest = { kind: 'unsubscribe', method: 'POST', userAgent: 'curl/8.4.0', clientIp: '64.235.150.10', at: 1 };
    expect(classifyEngagement(e)).toEqual({ machine: false });
  });

  it('takes extra rules (an egress list, say) and refuses bad ranges', () => {
    const classify = createMachineClassifier([
      ...MACHINE_RULES,
      { reason: 'apple-privacy-proxy', kinds: ['open'], cidrs: ['172.224.0.0/12', '2a02:26f7::/32'] },
    ]);
    expect(classify(open({ clientIp: '172.225.1.1' }))).toEqual({ machine: true, reason: 'apple-privacy-proxy' });
    expect(classify(open({ clientIp: '2a02:26f7:1::5' }))).toEqual({ machine: true, reason: 'apple-privacy-proxy' });
    expect(classifyEngagement(open({ clientIp: '172.225.1.1' }))).toEqual({ machine: false });
    expect(() => createMachineClassifier([{ reason: 'x', kinds: ['open'], cidrs: ['10.0.0.0/33'] }])).toThrow(/bad CIDR/);
    expect(() => createMachineClassifier([{ reason: 'x', kinds: ['open'], cidrs: ['nope/8'] }])).toThrow(/bad CIDR/);
  });

  it('every rule has a reason code of lower-case words', () => {
    for (const r of MACHINE_RULES) expect(r.reason).toMatch(/^[a-z]+(?:-[a-z]+)*$/);
  });
});

describe('RecentClicks', () => {
  it('returns the recipient’s other clicks of the last second, per recipient', () => {
    const r = new RecentClicks();
    expect(r.note('A', 0, 1_000)).toEqual([]);
    expect(r.note('B', 0, 1_100)).toEqual([]);
    expect(r.note('A', 1, 1_200)).toEqual([{ linkIndex: 0, at: 1_000 }]);
    expect(r.note('A', 2, 2_100)).toEqual([{ linkIndex: 1, at: 1_200 }]);
    expect(r.note('A', 3, 5_000)).toEqual([]);
  });

  it('forgets the least recently clicked recipients beyond its bound', () => {
    const r = new RecentClicks(2);
    r.note('A', 0, 1_000);
    r.note('B', 0, 1_000);
    r.note('A', 1, 1_001); // A is now the most recent
    r.note('C', 0, 1_002); // evicts B
    expect(r.note('A', 2, 1_003)).toEqual([
      { linkIndex: 0, at: 1_000 },
      { linkIndex: 1, at: 1_001 },
    ]);
    expect(r.note('B', 1, 1_004)).toEqual([]);
  });
});
