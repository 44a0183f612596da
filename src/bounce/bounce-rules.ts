/**
 * Bounce rules: which SocketLabs FailureCode an SMTP reply or network error means.
 *
 * Each rule sits beside the real reply it was written from. The wording of
 * every example is the receiving server's (or Node's / nodemailer's, for network errors); only
 * addresses, IPs (RFC 5737 192.0.2.x), host names and session ids are anonymised.
 *
 * How classify.ts uses them:
 * - `match` is tested against the reply with multi-line continuation prefixes removed
 *   ("550-5.1.1 ") and whitespace collapsed, so a phrase Gmail wraps over two lines still matches.
 *   The first line keeps its code and enhanced status. Patterns must carry the `i` flag and never
 *   `g`/`y` (a test enforces both).
 * - The first matching rule wins, so specific rules come before the generic ones they overlap.
 * - `permanent` overrides the code class (5xx permanent, 4xx and no reply temporary). Setting it
 *   to `false` turns a 5xx into a retry; `true` may make a 4xx or a network error final and is
 *   allowed only where the rule says why (today: domain-nxdomain alone; a test pins the list).
 *
 * Family choices (§7 leaves them to us): 1002 = a public DNS blocklist, 1003 = the receiving
 * provider's own reputation block; message-level refusals that are not the address's fault
 * (size, sender, reverse DNS policy) are 1xxx, never 2xxx, because a permanent 2xxx suppresses
 * the address.
 */

export interface BounceRule {
  /** Stable, unique, kebab-case; reported as Classification.ruleId. */
  readonly id: string;
  /** Tested against the normalised reply text; case-insensitive. */
  readonly match: RegExp;
  /** SocketLabs FailureCode. */
  readonly failureCode: number;
  /** Override of the code-class permanence; omit to derive it from the SMTP code. */
  readonly permanent?: boolean;
  /** One line for humans (webhook Explanation, dashboard). */
  readonly explanation: string;
  /** The real reply this rule was written from; the unit tests classify every one. */
  readonly example: string;
}

export const BOUNCE_RULES: readonly BounceRule[] = Object.freeze([
  // --- Provider reputation and rate limits (phrases unique to one provider) -------------------
  {
    id: 'yahoo-ip-blocked',
    // Yahoo says retrying will not succeed, yet this stays temporary (no override): it is a block
    // on our IP, not on the address, and a permanent failure would suppress every Yahoo
    // recipient. Retrying until the lifetime runs out lets a delisting take effect.
    match: /\bwill be permanently deferred\b|\bretrying will not succeed\b/i,
    failureCode: 1003,
    explanation: 'Yahoo is refusing all mail from the sending IP address.',
    example:
      '421 4.7.1 [TS03] All messages from 192.0.2.1 will be permanently deferred; Retrying will NOT succeed. See http://postmaster.yahoo.com/421-ts03.html',
  },
  {
    id: 'yahoo-deferred-complaints',
    match: /\btemporarily deferred due to (unexpected volume or )?user complaints\b/i,
    failureCode: 1006,
    explanation: 'Yahoo is deferring mail from the sending IP because of its volume or user complaints.',
    example:
      '421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes',
  },
  {
    id: 'gmail-unusual-rate',
    match: /\bunusual rate of (unsolicited )?mail\b/i,
    failureCode: 1006,
    explanation: 'Gmail is rate limiting the sender because of an unusual rate of unsolicited mail.',
    example:
      '421-4.7.28 [192.0.2.1      15] Our system has detected an unusual rate of\n421-4.7.28 unsolicited mail originating from your IP address. To protect our\n421-4.7.28 users from spam, mail sent from your IP address has been temporarily\n421-4.7.28 rate limited. Please visit\n421-4.7.28  https://support.google.com/mail/?p=UnsolicitedRateLimitError to\n421 4.7.28 review our Bulk Email Senders Guidelines. - gsmtp',
  },
  {
    id: 'gmail-receiving-rate',
    // Gmail also sends this as "550 5.2.1 ... ?p=ReceivingRatePerm" while still asking us to
    // resend later: the recipient is flooded, the address is fine, so never permanent.
    match: /\breceiving mail (too quickly|at a rate that)\b|\bReceivingRate(Perm)?\b/i,
    failureCode: 3999,
    permanent: false,
    explanation: 'The recipient is receiving mail faster than their provider accepts; it will be retried.',
    example:
      '450-4.2.1 The user you are trying to contact is receiving mail at a rate that\n450-4.2.1 prevents additional messages from being delivered. Please resend your\n450-4.2.1 message at a later time. If the user is able to receive mail at that\n450-4.2.1 time, your message will be delivered. For more information, go to\n450 4.2.1  https://support.google.com/mail/?p=ReceivingRate - gsmtp',
  },
  {
    id: 'gmail-inactive-over-quota',
    // Before mailbox-full: Gmail's "Perm" flavour of a full inbox means the account is abandoned.
    match: /\bout of storage space and inactive\b|\bOverQuotaPerm\b/i,
    failureCode: 3002,
    explanation: "The recipient's mailbox is full and no longer in use.",
    example:
      "552-5.2.2 The recipient's inbox is out of storage space and inactive. Please\n552-5.2.2 direct the recipient to\n552 5.2.2  https://support.google.com/mail/?p=OverQuotaPerm - gsmtp",
  },

  // --- Greylisting (before the blocklists: some greylisters answer "blocked using grey.rbl") ---
  {
    id: 'greylisted',
    // Always a retry, even when a server sends it with a 5xx.
    match: /\bgr[ae]y-?list(ed|ing)?\b/i,
    failureCode: 3003,
    permanent: false,
    explanation: 'The receiving server greylisted the message; it will be retried.',
    example: '450 4.2.0 <user@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html',
  },

  // --- Sender authentication ----------------------------------------------------------------
  {
    id: 'dmarc-rejected',
    match: /\bDMARC\b/i,
    failureCode: 1010,
    explanation: "The message failed the sender domain's DMARC policy.",
    example:
      "550-5.7.26 Unauthenticated email from example.com is not accepted due to\n550-5.7.26 domain's DMARC policy. Please contact the administrator of\n550-5.7.26 example.com domain if this was a legitimate mail. To learn about the\n550-5.7.26 DMARC initiative, go to\n550 5.7.26  https://support.google.com/mail/?p=DmarcRejection - gsmtp",
  },
  {
    id: 'gmail-unauthenticated',
    match:
      /\bis unauthenticated\b|\bsenders to authenticate\b|\bfails? to pass (SPF|DKIM|authentication) checks\b|\bdoes not have authentication information\b|\b(SPF|DKIM) authentication did(n't| not) pass\b|\bDKIM does not pass\b/i,
    failureCode: 1010,
    explanation: 'The message did not pass SPF or DKIM authentication at the receiving server.',
    example:
      '550-5.7.26 This mail is unauthenticated, which poses a security risk to the\n550-5.7.26 sender and Gmail users, and has been blocked. The sender must\n550-5.7.26 authenticate with at least one of SPF or DKIM. For this message,\n550-5.7.26 DKIM checks did not pass and SPF check for [example.com] did not\n550-5.7.26 pass with ip: [192.0.2.1]. To best protect our users from spam, the\n550-5.7.26 message has been blocked. Please visit\n550 5.7.26  https://support.google.com/mail/answer/81126#authentication - gsmtp',
  },
  {
    id: 'spf-rejected',
    match: /\bSPF (fail|hardfail|check failed|validation failed)\b|\bopen-?spf\.(org|net)\/Why\b/i,
    failureCode: 1010,
    explanation: "The sending IP is not authorised by the sender domain's SPF record.",
    example:
      '550 5.7.23 <user@example.com>: Recipient address rejected: Message rejected due to: SPF fail - not authorized. Please see http://www.openspf.net/Why?s=mfrom;id=bounce@example.net;ip=192.0.2.1;r=<UNKNOWN>',
  },
  {
    id: 'reverse-dns-failed',
    // 1010 like RFC 7372's 5.7.25 ("reverse DNS validation failed"), an identity check.
    match: /\bcannot find your (reverse )?hostname\b|\bPTR record\b|\breverse DNS\b/i,
    failureCode: 1010,
    explanation: "The sending IP's reverse DNS (PTR) did not satisfy the receiving server.",
    example: '450 4.7.1 Client host rejected: cannot find your hostname, [192.0.2.1]',
  },

  // --- Blocklists and reputation --------------------------------------------------------------
  {
    id: 'outlook-blocklist',
    match: /\bon our block list\b|\bbanned sending IP\b|\bbanned sender\b|\(S3\d{3}\)/i,
    failureCode: 1003,
    explanation: 'Microsoft is blocking the sending IP or its network.',
    example:
      "550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. [DB5EUR03FT012.eop-EUR03.prod.protection.outlook.com]",
  },
  {
    id: 'url-blocklisted',
    // Before dnsbl-listed: a listed URL in the body is a content problem, not an IP listing.
    match: /\bURLs? (in|of) (this|the) (e-?mail|message)\b.{0,80}?\b(listed|blocked|blacklisted|blocklisted)\b|\b(SURBL|URIBL)\b/i,
    failureCode: 1005,
    explanation: 'A link in the message is on a URL blocklist.',
    example: '550 A URL in this email (example.com) is listed on https://spamrl.com/. Please resolve and retry',
  },
  {
    id: 'dnsbl-listed',
    match: /\bblocked using\b|\bspamhaus\b|\bspamcop\b|\bsorbs\b|\bDNS ?BLs?\b|\bRBL\b|\b(black|block)[ -]?list(ed)?\b|\bIP\b.{0,40}?\bis listed\b/i,
    failureCode: 1002,
    explanation: 'The sending IP is on a DNS blocklist used by the receiving server.',
    example: '554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.1',
  },
  {
    id: 'barracuda-blocked',
    // Barracuda's reputation block is caught by dnsbl-listed; this is the appliance's terse
    // per-recipient refusal, which names neither the list nor the reason.
    match: /\bpermanent failure for one or more recipients\b.*:blocked\)/i,
    failureCode: 1002,
    explanation: "A Barracuda filter blocked the message (usually the sending IP's reputation).",
    example: '550 permanent failure for one or more recipients (user@example.com:blocked)',
  },
  {
    id: 'low-reputation',
    match: /\blow reputation of the sending\b|\b(poor|bad) reputation\b/i,
    failureCode: 1003,
    explanation: "The receiving provider blocked the message because of the sender's reputation.",
    example:
      '421-4.7.0 [192.0.2.1      15] Our system has detected that this message is\n421-4.7.0 suspicious due to the very low reputation of the sending IP address.\n421-4.7.0 To best protect our users from spam, the message has been blocked.\n421-4.7.0 Please visit\n421 4.7.0  https://support.google.com/mail/answer/188131 for more information. - gsmtp',
  },

  // --- Content -------------------------------------------------------------------------------
  {
    id: 'virus',
    match: /\bvirus(es)?\b|\bmalware\b|\binfected\b|\bEICAR\b/i,
    failureCode: 1007,
    explanation: "The receiving server's scanner found a virus or malware in the message.",
    example: '550 This message contains a virus (Eicar-Test-Signature)',
  },
  {
    id: 'spam-content',
    // Gmail's "potential security issue" is about blocked attachment types: a content policy
    // (1004), not detected malware (1007, rule above).
    match:
      /\b(rejected|blocked|identified|classified|detected|flagged) (as|due to) spam\b|\bspam (message|content)\b|\blikely unsolicited mail\b|\blooks like spam\b|\bit is spam\b|\bcontent filter(ing)?\b|\bcontent policy\b|\bcontent presents a potential security issue\b|\billegal attachment\b|\bnature of the content\b|\bJunkMail rejected\b/i,
    failureCode: 1004,
    explanation: "The receiving server's content filter refused the message.",
    example: '550 5.7.1 Message rejected as spam by Content Filtering.',
  },

  // --- Routing and envelope -------------------------------------------------------------------
  {
    id: 'relay-denied',
    match:
      /\brelay(ing)? (access )?(denied|not permitted|not allowed|prohibited)\b|\bunable to relay\b|\bnot (permitted|allowed) to relay\b|\bisn't allowed to relay\b|\blist of allowed rcpthosts\b/i,
    failureCode: 4006,
    explanation: 'The receiving server does not accept mail for the recipient domain (relay denied).',
    example: '554 5.7.1 <user@example.com>: Relay access denied',
  },
  {
    id: 'sender-rejected',
    // Before the domain and syntax rules, whose phrases ("Domain not found", "address syntax")
    // also appear in refusals of our MAIL FROM: the recipient address is not at fault.
    match: /\bsender address rejected\b|\bbad sender address\b|\binvalid sender\b|\benvelope sender domain must exist\b/i,
    failureCode: 1999,
    explanation: "The receiving server refused the message's sender (return-path) address.",
    example: '450 4.1.8 <bounce@example.net>: Sender address rejected: Domain not found',
  },
  {
    id: 'null-mx',
    match: /\bnull ?MX\b/i,
    failureCode: 2002,
    explanation: 'The recipient domain publishes a null MX: it accepts no mail.',
    example: '556 5.1.10 <user@example.com>: Recipient address rejected: Domain example.com does not accept mail (nullMX)',
  },
  {
    id: 'dns-lookup-temporary',
    // Before domain-nxdomain: Postfix appends ", try again" when the lookup failed, not the domain.
    match: /\bHost not found, try again\b|\bEAI_AGAIN\b|\bESERVFAIL\b/i,
    failureCode: 4003,
    explanation: 'The receiving domain could not be looked up in DNS for now.',
    example: 'Host or domain name not found. Name service error for name=example.com type=MX: Host not found, try again',
  },
  {
    id: 'domain-nxdomain',
    // permanent: true, even without an SMTP code: Postfix writes this only after an
    // authoritative NXDOMAIN (the transient case is the rule above) and bounces it at once with
    // 5.4.4. Retrying a domain that does not exist cannot help.
    match: /\bHost or domain name not found\b|\bqueryMx ENOTFOUND\b/i,
    failureCode: 2002,
    permanent: true,
    explanation: 'The recipient domain does not exist.',
    example: 'Host or domain name not found. Name service error for name=example.invalid type=MX: Host not found',
  },
  {
    id: 'domain-not-found',
    match: /\bHost unknown\b|\bdomain (name )?(not found|does not exist|doesn't exist)\b|\bno such domain\b|\bunknown domain\b|\bNo MX for\b/i,
    failureCode: 2002,
    explanation: 'The recipient domain does not exist or has no mail server.',
    example: '550 5.1.2 <user@example.invalid>... Host unknown (Name server: example.invalid: host not found)',
  },

  // --- Mailbox state ---------------------------------------------------------------------------
  {
    id: 'account-closed',
    match: /\bdisabled or discontinued\b|\baccount (has been )?(closed|terminated|deleted|discontinued)\b|\bno longer accepts mail\b/i,
    failureCode: 2004,
    explanation: "The recipient's account has been closed.",
    example:
      '554 delivery error: dd Sorry your message to user@yahoo.com cannot be delivered. This account has been disabled or discontinued [#102]. - mta1012.mail.sk1.yahoo.com',
  },
  {
    id: 'account-disabled',
    // Stays permanent on a 5xx (the address will not take mail until someone re-enables it).
    match:
      /\baccount that you tried to reach is (disabled|inactive)\b|\bDisabledUser\b|\b(account|mailbox|user) (is )?(disabled|inactive|suspended|not active)\b|\(554\.30\)|\baccount not activated\b|\binactive user\b/i,
    failureCode: 3002,
    explanation: "The recipient's mailbox is disabled or inactive.",
    example:
      '550-5.2.1 The email account that you tried to reach is disabled. Learn more at\n550 5.2.1  https://support.google.com/mail/?p=DisabledUser - gsmtp',
  },
  {
    id: 'mailbox-full',
    // Temporary even on 552/5.2.2: SocketLabs (§7) gives "mailbox full" as its example of a
    // temporary failure, and mailboxes do get emptied; the lifetime ends hopeless retries.
    match:
      /\bover ?quota\b|\bquota (exceeded|violation)\b|\bexceeds? (its |the |their )?quota\b|\bmailbox (is )?full\b|\binbox is (out of storage|full)\b|\bout of storage space\b|\bmailbox (size )?limit exceeded\b|\bexceeded storage allocation\b|\bstorage full\b/i,
    failureCode: 3001,
    permanent: false,
    explanation: "The recipient's mailbox is full.",
    example:
      '452-4.2.2 The email account that you tried to reach is over quota. Please direct\n452-4.2.2 the recipient to\n452 4.2.2  https://support.google.com/mail/?p=OverQuotaTemp - gsmtp',
  },
  {
    id: 'message-too-large',
    // 1999, not 2999: the address is fine, only this message is refused.
    match:
      /\bmessage size exceeds\b|\bmessage (is )?too (large|big)\b|\bexceed(s|ed)?\b[^.]*\bmessage size limits?\b|\bsize limit exceeded\b|\bmessage length exceeds\b/i,
    failureCode: 1999,
    explanation: 'The message is larger than the receiving server accepts.',
    example: '552 5.3.4 Message size exceeds fixed limit',
  },
  {
    id: 'address-syntax',
    match:
      /\bbad (recipient )?address syntax\b|\baddress syntax (error|invalid)\b|\bmalformed (recipient )?address\b|\binvalid (recipient )?address (syntax|format)\b|\bsyntax error in (the )?(recipient )?address\b/i,
    failureCode: 2003,
    explanation: 'The recipient address is not valid syntax.',
    example: '501 5.1.3 Bad recipient address syntax',
  },

  // --- Unknown recipient (provider-specific first, then the generic phrasings) -----------------
  {
    id: 'yahoo-no-account',
    match: /\bdoesn't have an? [\w.-]+ account\b/i,
    failureCode: 2001,
    explanation: 'The recipient address does not exist at Yahoo/AOL.',
    example: "554 delivery error: dd This user doesn't have a yahoo.com account (user@yahoo.com) [0] - mta1234.mail.ne1.yahoo.com",
  },
  {
    id: 'gmail-no-such-user',
    match: /\baccount that you tried to reach does not exist\b|\bNoSuchUser\b/i,
    failureCode: 2001,
    explanation: "The recipient's mailbox does not exist.",
    example:
      "550-5.1.1 The email account that you tried to reach does not exist. Please try\n550-5.1.1 double-checking the recipient's email address for typos or\n550-5.1.1 unnecessary spaces. Learn more at\n550 5.1.1  https://support.google.com/mail/?p=NoSuchUser - gsmtp",
  },
  {
    id: 'exchange-recipient-not-found',
    // "Access denied" under 5.4.1 is Exchange Online's directory-based edge blocking: the
    // address is not in the tenant's directory.
    match: /\bRecipientNotFound\b|\bnot found by SMTP address lookup\b|\bRecipient address rejected: Access denied\b/i,
    failureCode: 2001,
    explanation: "The recipient's mailbox does not exist.",
    example: '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup',
  },
  {
    id: 'mailbox-unavailable',
    match: /\bmailbox unavailable\b/i,
    failureCode: 2001,
    explanation: "The recipient's mailbox does not exist or is unavailable.",
    example: '550 5.5.0 Requested action not taken: mailbox unavailable',
  },
  {
    id: 'postfix-user-unknown',
    match: /\bUser unknown in [\w ]+ table\b/i,
    failureCode: 2001,
    explanation: "The recipient's mailbox does not exist.",
    example: '550 5.1.1 <user@example.com>: Recipient address rejected: User unknown in virtual mailbox table',
  },
  {
    id: 'exim-unrouteable',
    match: /\bUnrouteable address\b/i,
    failureCode: 2001,
    explanation: 'The receiving server has no route to the recipient address.',
    example: '550 Unrouteable address',
  },
  {
    id: 'unknown-user',
    match:
      /\b(user|recipient|mailbox|address|addressee|account) (unknown|not found|does not exist|doesn't exist)\b|\bno such (user|recipient|mailbox|address|account|person)\b|\bunknown (user|recipient|mailbox|local[- ]?part|address|account)\b|\binvalid (recipient|mailbox|user|account)\b|\bnot a valid (mailbox|recipient|user)\b|\bno mail-?box here by that name\b|\bmailbox not found\b|\brecipient (rejected|unrecognized)\b|\bnot our customer\b/i,
    failureCode: 2001,
    explanation: "The recipient's mailbox does not exist.",
    example: '550 5.1.1 <user@example.com>... User unknown',
  },

  // --- Receiving server capacity ---------------------------------------------------------------
  {
    id: 'server-busy',
    match: /\bserver busy\b|\bservice (not available|temporarily unavailable)\b|\binsufficient system (storage|resources)\b|\btemporary system problem\b/i,
    failureCode: 4001,
    explanation: 'The receiving server is too busy; it will be retried.',
    example: '451 4.7.500 Server busy. Please try again later from [192.0.2.1]. (S77714) [BN8NAM11FT034.eop-nam11.prod.protection.outlook.com]',
  },
  {
    id: 'too-many-connections',
    match: /\btoo many (concurrent |simultaneous )?(smtp )?connections\b|\bmaximum number of (concurrent )?connections\b/i,
    failureCode: 1006,
    explanation: 'The receiving server limits connections from the sending IP; it will be retried.',
    example: '421 4.7.0 mx.example.com Error: too many connections from 192.0.2.1',
  },

  // --- Expiry and network errors (mostly without an SMTP code) -----------------------------------
  {
    id: 'message-expired',
    match: /\bQUEUE\.Expired\b|\bmessage expired\b|\bdelivery (time )?expired\b|\bretry timeout exceeded\b|\bmessage (is )?too old\b/i,
    failureCode: 4004,
    explanation: 'The message expired in a queue before it could be delivered.',
    example: '550 4.4.7 QUEUE.Expired; message expired',
  },
  // Reports whose server gave up after retrying, in each MTA's wording (from bounce reports).
  {
    id: 'exim-hosts-failing',
    match: /\ball hosts have been failing for a long time\b/i,
    failureCode: 4004,
    explanation: 'The message expired in a queue before it could be delivered.',
    example: 'all hosts have been failing for a long time and were last tried after this message arrived',
  },
  {
    id: 'queue-gave-up',
    match:
      /\bEnvelope expired\b|\bafter multiple retries, giving up\b|\bDelivery failed \d+ attempts\b|\bbeen in the queue too long\b|\bwas not delivered within \d+ days\b|\bwas aborted after [\d.]+ hour/i,
    failureCode: 4004,
    explanation: 'The message expired in a queue before it could be delivered.',
    example:
      "unable to connect to remote server [192.0.2.222:25]: Operation timed out I'm not going to try again; this message has been in the queue too long.",
  },
  {
    id: 'remote-unreachable',
    match: /\bdid not accept our requests to connect\b|\bHost not reachable\b|\bRemote host is not responding\b|\bsocket error\]/i,
    failureCode: 4003,
    explanation: 'Could not connect to the receiving server, or the connection broke.',
    example:
      'The recipient server did not accept our requests to connect. Learn more at https://support.google.com/mail/answer/7720 [libsisimai.org 192.0.2.153: socket error]',
  },
  {
    id: 'tls-failed',
    match: /\bError initiating TLS\b|\bError upgrading connection with STARTTLS\b|\bSSL routines\b/i,
    failureCode: 4999,
    explanation: 'TLS negotiation with the receiving server failed.',
    example: 'Error initiating TLS - write EPROTO 80B8B4F7F27F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number',
  },
  {
    id: 'conversation-timeout',
    // A timeout after the connection was made is a protocol timeout (4002), not "cannot connect".
    match: /\bGreeting never received\b|\btimed out while\b|\bETIMEDOUT: Timeout\b|\bTimeout - closing connection\b/i,
    failureCode: 4002,
    explanation: 'The receiving server stopped answering during the SMTP conversation.',
    example: 'Greeting never received',
  },
  {
    id: 'connection-failed',
    match:
      /\bECONNREFUSED\b|\bECONNRESET\b|\bEHOSTUNREACH\b|\bENETUNREACH\b|\bEHOSTDOWN\b|\bEPIPE\b|\bETIMEDOUT\b|\bConnection (refused|reset|timed out|timeout|closed)\b|\bNo route to host\b|\bNetwork is unreachable\b|\blost connection\b|\bServer closed the connection\b|\bgetaddrinfo ENOTFOUND\b/i,
    failureCode: 4003,
    explanation: 'Could not connect to the receiving server, or the connection broke.',
    example: 'connect ECONNREFUSED 192.0.2.1:25',
  },

  // --- Last: a bare "try later" (a 5xx that says so is a retry too) -------------------------------
  {
    id: 'try-again-later',
    match: /\b(please )?try (again )?later\b|\bcome back later\b/i,
    failureCode: 3003,
    permanent: false,
    explanation: 'The receiving server asked to try again later.',
    example: '451 Temporary local problem - please try later',
  },
]);
