// The generated token and host keys keep their values when the engine hands their dynamic provider new code (a
// TypeScript, SDK or loader upgrade, or an edit inside `create`, changes the serialized `__provider` text): the
// provider's diff reports no change, and an update keeps every generated output. The providers here are the text the
// SDK serializes for the engine (pulumi.runtime.serializeFunction, as pulumi.dynamic.Resource does), loaded back the
// way the SDK's dynamic-provider plugin loads them (require-from-string, `.handler()`), before and after a change.
// The end-to-end run proves the same for the token with the real engine (test/e2e/ssh-up.test.ts).
import * as pulumi from "@pulumi/pulumi";
import { hostKeyProvider, tokenProvider } from "../../components/bootstrap/generated";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const requireFromString = require("require-from-string") as (code: string) => {
  handler(): pulumi.dynamic.ResourceProvider;
};

/** The provider text the engine stores, and the provider the plugin builds from it. */
async function serialized(provider: pulumi.dynamic.ResourceProvider) {
  const { text } = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
  return { text, provider: requireFromString(text).handler() };
}

describe.each([
  ["token", tokenProvider, { bytes: 32 }],
  ["host key", hostKeyProvider, {}],
] as const)("the generated %s", (_name, provider, inputs) => {
  it("is unchanged by a new serialized provider, and kept by an update", async () => {
    const before = await serialized(provider);
    // An edit inside `create`, as a new compiler or SDK would emit it: a different provider text.
    const create = provider.create; // uses no `this`
    const after = await serialized({
      ...provider,
      create: (i: Record<string, unknown>) => {
        void "serialized differently";
        return create(i);
      },
    });
    expect(after.text).not.toBe(before.text);
    // Created by the old provider; the plugin adds the provider text to the outputs (resultIncludingProvider).
    const created = await before.provider.create({ ...inputs, __provider: before.text });
    const olds = { ...(created.outs as Record<string, unknown>), __provider: before.text };
    const news = { ...inputs, __provider: after.text };
    // The plugin asks the new provider's diff (the one in `news`).
    expect(await after.provider.diff!(created.id, olds, news)).toEqual({ changes: false, replaces: [] });
    const updated = (await after.provider.update!(created.id, olds, news)).outs as Record<string, unknown>;
    const generated = Object.keys(created.outs as object).filter((k) => !(k in inputs));
    expect(generated.length).toBeGreaterThan(0);
    for (const key of generated)
      expect(`${key}: ${String(updated[key])}`).toBe(
        `${key}: ${String((created.outs as Record<string, unknown>)[key])}`,
      );
  });
});

it("replaces the token when the number of bytes changes", async () => {
  expect(await tokenProvider.diff!("id", { bytes: 32 }, { bytes: 48 })).toEqual({
    changes: true,
    replaces: ["bytes"],
  });
});
