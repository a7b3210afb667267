import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UsageError } from '../common/errors.js';
import bundled from './prices.json' with { type: 'json' };

const usd = z.number().finite().nonnegative();

const tierSchema = z.object({ upToGib: z.number().positive().nullable(), usdPerGib: usd });

const regionSchema = z.object({
  location: z.string(),
  machineHourUsd: z.record(usd),
  diskGibMonthUsd: z.record(usd),
  externalIpHourUsd: usd,
  natDataPerGibUsd: usd,
  internetEgressTiers: z
    .array(tierSchema)
    .min(1)
    .refine((tiers) => tiers[tiers.length - 1]?.upToGib === null, 'the last tier must have upToGib: null (no upper bound)')
    .refine(
      (tiers) => tiers.every((tier, i) => i === 0 || tier.upToGib === null || tier.upToGib > (tiers[i - 1]?.upToGib ?? 0)),
      'tiers must be in increasing upToGib order',
    ),
});

export const priceTableSchema = z.object({
  about: z.object({
    pricesDated: z.string(),
    currency: z.literal('USD'),
    hoursPerMonth: z.number().positive(),
    generatedBy: z.string(),
    sources: z.record(z.string()),
    licence: z.string(),
    /** Set when a --prices file was merged in, so that the output does not present user prices as list prices. */
    overriddenBy: z.string().optional(),
  }),
  cloudNat: z.object({
    perVmHourUsd: usd,
    perVmMaxVms: z.number().int().positive(),
    flatHourUsdAboveMaxVms: usd,
    natIpHourUsd: usd,
  }),
  loadBalancer: z.object({ forwardingRuleHourUsd: usd, dataProcessedPerGibUsd: usd }),
  interZonePerGibUsd: usd,
  machineTypes: z.record(
    z.object({
      vcpus: z.number().positive(),
      memoryGib: z.number().positive(),
      maxEgressGbps: z.number().positive(),
      egressSource: z.string(),
    }),
  ),
  regions: z.record(regionSchema),
});

export type PriceTable = z.infer<typeof priceTableSchema>;
export type RegionPrices = z.infer<typeof regionSchema>;
export type EgressTier = z.infer<typeof tierSchema>;

export function bundledPrices(): PriceTable {
  return priceTableSchema.parse(bundled);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Objects merge key by key; arrays and scalars replace, so an override of egress tiers states the whole ladder. */
export function deepMerge(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    merged[key] = key in base ? deepMerge(base[key], value) : value;
  }
  return merged;
}

export function mergePrices(base: PriceTable, override: unknown, origin: string): PriceTable {
  if (!isPlainObject(override)) throw new UsageError(`--prices ${origin}: expected a JSON object in the shape of cost/prices.json`);
  const result = priceTableSchema.safeParse(deepMerge(deepMerge(base, override), { about: { overriddenBy: origin } }));
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(top)'}: ${issue.message}`);
    throw new UsageError(`--prices ${origin}: ${problems.join('; ')}`);
  }
  return result.data;
}

export function loadPrices(file: string | undefined): PriceTable {
  const base = bundledPrices();
  if (file === undefined) return base;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--prices ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--prices ${file}: not valid JSON (${(error as Error).message})`);
  }
  return mergePrices(base, parsed, file);
}
