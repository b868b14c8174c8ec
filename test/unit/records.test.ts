// Proves the node file-record format's encoder and decoder agree (what the files step sends is what the policy pack
// reads), including modes, owners and content with spaces and newlines, and that the node env decoder undoes the
// writer's quoting. Cannot prove place-files.sh reads the same format: the script tests run it for real.
import { renderBundle } from "../../components/render/bundle";
import { decodeFileRecords, decodeNodeEnv, encodeFileRecords } from "../../components/render/records";
import { renderNodeEnv } from "../../components/render/rke2";
import { offlineFacts } from "../../components/spec/plan";
import { existingConfig, spec } from "../helpers/spec";

const inputs = { secret: () => "s3cr3t value", file: () => "", secretFile: () => "" };

describe("node file records", () => {
  it("decode to exactly what was encoded, for every file a rendered node receives", () => {
    const node = renderBundle(spec(existingConfig()), inputs).nodes[0];
    const files = [...node.files, ...node.scripts];
    const decoded = decodeFileRecords(encodeFileRecords(files));
    expect([...decoded.entries()]).toEqual(
      files.map((f) => [f.path, { mode: f.mode, owner: f.owner, group: f.group, content: f.content }]),
    );
  });

  it("refuses a field the format cannot carry", () => {
    const f = {
      path: "/etc/a b",
      mode: "0600",
      owner: "root",
      group: "root",
      content: "",
      purpose: "",
      secret: false,
    };
    expect(() => encodeFileRecords([f])).toThrow('file field "/etc/a b" cannot be sent');
  });

  it("reads nothing from a value not known yet (a preview before addresses exist)", () => {
    expect(decodeFileRecords(undefined).size).toBe(0);
  });

  it("the node env decoder undoes the writer's quoting", () => {
    const s = spec(existingConfig());
    const env = renderNodeEnv(s, offlineFacts(s)[0]);
    const decoded = decodeNodeEnv(
      decodeFileRecords(encodeFileRecords([{ ...env, content: `${env.content}QUOTE='it'\\''s'\n` }])),
    );
    expect(decoded).toMatchObject({
      ROLE: "server",
      NODE_NAME: "s1",
      RKE2_VERSION: "v1.33.5+rke2r1",
      QUOTE: "it's",
    });
  });
});
