import { parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';

/** A small organisation for tests: payments (alice, bob), platform (carol, dave), search (erin). */
export const TEST_CONFIG_RAW = {
  slack: { approvals_channel: 'C0APPROVALS', incidents_channel: 'C0INCIDENTS', escalation_channel: 'C0ESCALATE' },
  teams: [
    { name: 'payments', channel: 'C0PAYSEN', seniors: ['U0ALICE', 'U0BOB'], seniors_usergroup: 'S0PAYSENIORS' },
    { name: 'platform', channel: 'C0PLATSEN', seniors: ['U0CAROL', 'U0DAVE'] },
    { name: 'search', seniors: ['U0ERIN'] },
  ],
  services: [
    { name: 'checkout', team: 'payments', depends_on: ['payments-api'] },
    { name: 'payments-api', team: 'payments', depends_on: ['checkout-db'] },
    { name: 'checkout-db', team: 'platform' },
    { name: 'infra', team: 'platform' },
    { name: 'search-api', team: 'search' },
  ],
  engineers: [
    { slack: 'U0JUNIOR', github: 'jdoe', email: 'jdoe@example.com', name: 'Jordan Doe', level: 'junior' },
    { slack: 'U0MIA', github: 'mia-k', email: 'mia@example.com', level: 'mid' },
    { slack: 'U0ALICE', github: 'alice', email: 'alice@example.com', name: 'Alice', level: 'senior' },
    { slack: 'U0BOB', github: 'bobr', level: 'senior' },
    { slack: 'U0CAROL', github: 'carol', level: 'principal' },
    { slack: 'U0DAVE', github: 'dave', level: 'senior' },
    { slack: 'U0ERIN', github: 'erin', level: 'senior' },
  ],
};

/** The test config, with top-level sections overridden. */
export function buildConfig(overrides: Record<string, unknown> = {}): Config {
  return parseConfig({ ...structuredClone(TEST_CONFIG_RAW), ...overrides }, 'test config');
}
