// The generated token and host keys keep their values when the engine hands their dynamic provider new code (a
// TypeScript, SDK or loader upgrade changes the serialized `__provider` text): the provider's diff reports no change,
// and an update keeps every generated output. The end-to-end run proves the same for the token with the real engine.
import { hostKeyProvider, tokenProvider } from "../../components/bootstrap/generated";

describe.each([
  ["token", tokenProvider, { bytes: 32 }],
  ["host key", hostKeyProvider, {}],
] as const)("the generated %s", (_name, provider, inputs) => {
  it("is unchanged by a new serialized provider, and kept by an update", async () => {
    const created = await provider.create({ ...inputs });
    const olds = { ...created.outs, __provider: "exports.handler = () => old" };
    const news = { ...inputs, __provider: "exports.handler = () => new" };
    expect(await provider.diff!(created.id, olds, news)).toEqual({ changes: false, replaces: [] });
    const updated = await provider.update!(created.id, olds, news);
    for (const [key, value] of Object.entries(created.outs as Record<string, unknown>))
      expect(`${key}: ${String((updated.outs as Record<string, unknown>)[key])}`).toBe(
        `${key}: ${String(value)}`,
      );
  });
});

it("replaces the token when the number of bytes changes", async () => {
  expect(await tokenProvider.diff!("id", { bytes: 32 }, { bytes: 48 })).toEqual({
    changes: true,
    replaces: ["bytes"],
  });
});
