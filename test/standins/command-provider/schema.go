package main

import "encoding/json"

// schemaJSON is the package schema this stand-in serves: the three resources hardened-rke2 uses,
// with the names, types, required lists, defaults, secrecy and replaceOnChanges of the real
// v1.2.1 schema (provider/cmd/pulumi-resource-command/schema.json), written out here without its
// descriptions. CopyFile and the local:run function are left out.
var schemaJSON = buildSchema()

type obj_ = map[string]any

func prop(t string) obj_ { return obj_{"type": t} }
func ref(r string) obj_  { return obj_{"$ref": r} }
func secret(p obj_) obj_ { p["secret"] = true; return p }
func withDefault(p obj_, d any) obj_ {
	p["default"] = d
	return p
}

func buildSchema() string {
	triggers := obj_{"type": "array", "items": obj_{"$ref": "pulumi.json#/Any"}, "replaceOnChanges": true}
	strs := obj_{"type": "array", "items": prop("string")}
	env := obj_{"type": "object", "additionalProperties": prop("string")}
	logging := func(mod string) obj_ {
		vals := []obj_{}
		for _, v := range []string{"stdout", "stderr", "stdoutAndStderr", "none"} {
			vals = append(vals, obj_{"name": v, "value": v})
		}
		return obj_{"type": "string", "enum": vals}
	}
	conn := func(withProxy bool) obj_ {
		p := obj_{
			"host": prop("string"), "port": withDefault(prop("number"), 22), "user": withDefault(prop("string"), "root"),
			"password": secret(prop("string")), "privateKey": secret(prop("string")),
			"privateKeyPassword": secret(prop("string")), "agentSocketPath": prop("string"),
			"dialErrorLimit": withDefault(prop("integer"), 10), "perDialTimeout": withDefault(prop("integer"), 15),
			"hostKey": prop("string"),
		}
		if withProxy {
			p["proxy"] = ref("#/types/command:remote:ProxyConnection")
		}
		return obj_{"type": "object", "properties": p, "required": []string{"host"}}
	}
	commandIns := func(mod string) obj_ {
		return obj_{
			"triggers": triggers, "create": prop("string"), "update": prop("string"), "delete": prop("string"),
			"stdin": prop("string"), "logging": ref("#/types/command:" + mod + ":Logging"),
			"environment": env, "addPreviousOutputInEnv": prop("boolean"),
		}
	}
	outs := func(ins obj_, extra obj_) obj_ {
		o := obj_{}
		for k, v := range ins {
			c := obj_{}
			for kk, vv := range v.(obj_) {
				if kk != "replaceOnChanges" {
					c[kk] = vv
				}
			}
			o[k] = c
		}
		for k, v := range extra {
			o[k] = v
		}
		return o
	}
	remoteIns := commandIns("remote")
	remoteIns["connection"] = secret(ref("#/types/command:remote:Connection"))
	localIns := commandIns("local")
	localIns["interpreter"], localIns["dir"] = strs, prop("string")
	localIns["assetPaths"], localIns["archivePaths"] = strs, strs
	std := obj_{"stdout": prop("string"), "stderr": prop("string")}
	localOuts := outs(localIns, std)
	localOuts["assets"] = obj_{"type": "object", "additionalProperties": ref("pulumi.json#/Asset")}
	localOuts["archive"] = ref("pulumi.json#/Archive")
	copyIns := obj_{
		"connection": secret(ref("#/types/command:remote:Connection")), "triggers": triggers,
		"source": ref("pulumi.json#/Asset"), "remotePath": prop("string"),
	}
	s := obj_{
		"name": "command", "displayName": "Command", "version": version,
		"description": "Test stand-in for the Pulumi Command Provider v1.2.1 (hardened-rke2 tests only; never ships).",
		"config": obj_{}, "provider": obj_{},
		"types": obj_{
			"command:local:Logging":           logging("local"),
			"command:remote:Logging":          logging("remote"),
			"command:remote:Connection":       conn(true),
			"command:remote:ProxyConnection": conn(false),
		},
		"resources": obj_{
			"command:remote:Command": obj_{
				"inputProperties": remoteIns, "requiredInputs": []string{"connection"},
				"properties": outs(remoteIns, std), "required": []string{"connection", "stdout", "stderr"},
			},
			"command:local:Command": obj_{
				"inputProperties": localIns, "properties": localOuts, "required": []string{"stdout", "stderr"},
			},
			"command:remote:CopyToRemote": obj_{
				"inputProperties": copyIns, "requiredInputs": []string{"connection", "source", "remotePath"},
				"properties": outs(copyIns, nil), "required": []string{"connection", "source", "remotePath"},
			},
		},
	}
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}
