// The whole rendered bundle of a stack: every node's files and scripts, the in-cluster objects and the CIS map.
import type { ClusterSpec } from "../spec/types";
import { controlMap, type ControlRow } from "./cis";
import type { RenderInputs } from "./inputs";
import { renderClusterObjects, type RenderedObject } from "./kube";
import { renderNode, type NodeBundle } from "./node";
import { apiAddress, offlineFacts, registrationAddress, type NodeFacts } from "../spec/plan";

export interface Bundle {
  registration: string;
  nodes: NodeBundle[];
  objects: RenderedObject[];
  controls: ControlRow[];
}

/** Renders everything; `facts` default to what is known offline (AWS addresses become placeholders). */
export function renderBundle(
  spec: ClusterSpec,
  inputs: RenderInputs,
  facts: NodeFacts[] = offlineFacts(spec),
): Bundle {
  const registration = registrationAddress(spec, facts);
  const api = apiAddress(spec, registration);
  return {
    registration,
    nodes: facts.map((n) => renderNode(spec, n, registration, inputs, api)),
    objects: renderClusterObjects(spec),
    controls: controlMap(spec),
  };
}
