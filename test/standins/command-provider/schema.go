package main

import "encoding/json"

// schemaJSON is the package schema this stand-in serves: the three resources hardened-rke2 uses,
// with the names, types, required lists, defaults, secrecy and replaceOnChanges of the real
// v1.2.1 schema (provider/cmd/pulumi-resource-command/schema.json), written out here without its
// descriptions. CopyFile and the local:run function are left out.
var schemaJSON = buildSchema()

type jsonObj = map[string]any

func prop(t string) jsonObj    { return jsonObj{"type": t} }
func ref(r string) jsonObj     { return jsonObj{"$ref": r} }
func secret(p jsonObj) jsonObj { p["secret"] = true; return p }
func withDefault(p jsonObj, d any) jsonObj {
	p["default"] = d
	return p
}

func buildSchema() string {
	triggers := jsonObj{"type": "array", "items": jsonObj{"$ref": "pulumi.json#/Any"}, "replaceOnChanges": true}
	strs := jsonObj{"type": "array", "items": prop("string")}
	env := jsonObj{"type": "object", "additionalProperties": prop("string")}
	logging := func() jsonObj {
		vals := []jsonObj{}
		for _, v := range []string{"stdout", "stderr", "stdoutAndStderr", "none"} {
			vals = append(vals, jsonObj{"name": v, "value": v})
		}
		return jsonObj{"type": "string", "enum": vals}
	}
	conn := func(withProxy bool) jsonObj {
		p := jsonObj{
			"host": prop("string"), "port": withDefault(prop("number"), 22), "user": withDefault(prop("string"), "root"),
			"password": secret(prop("string")), "privateKey": secret(prop("string")),
			"privateKeyPassword": secret(prop("string")), "agentSocketPath": prop("string"),
			"dialErrorLimit": withDefault(prop("integer"), 10), "perDialTimeout": withDefault(prop("integer"), 15),
			"hostKey": prop("string"),
		}
		if withProxy {
			p["proxy"] = ref("#/types/command:remote:ProxyConnection")
		}
		return jsonObj{"type": "object", "properties": p, "required": []string{"host"}}
	}
	commandIns := func(mod string) jsonObj {
		return jsonObj{
			"triggers": triggers, "create": prop("string"), "update": prop("string"), "delete": prop("string"),
			"stdin": prop("string"), "logging": ref("#/types/command:" + mod + ":Logging"),
			"environment": env, "addPreviousOutputInEnv": prop("boolean"),
		}
	}
	outs := func(ins jsonObj, extra jsonObj) jsonObj {
		o := jsonObj{}
		for k, v := range ins {
			c := jsonObj{}
			for kk, vv := range v.(jsonObj) {
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
	std := jsonObj{"stdout": prop("string"), "stderr": prop("string")}
	localOuts := outs(localIns, std)
	localOuts["assets"] = jsonObj{"type": "object", "additionalProperties": ref("pulumi.json#/Asset")}
	localOuts["archive"] = ref("pulumi.json#/Archive")
	copyIns := jsonObj{
		"connection": secret(ref("#/types/command:remote:Connection")), "triggers": triggers,
		"source": ref("pulumi.json#/Asset"), "remotePath": prop("string"),
	}
	s := jsonObj{
		"name": "command", "displayName": "Command", "version": version,
		"description": "Test stand-in for the Pulumi Command Provider v1.2.1 (hardened-rke2 tests only; never ships).",
		"config":      jsonObj{}, "provider": jsonObj{},
		"types": jsonObj{
			"command:local:Logging":          logging(),
			"command:remote:Logging":         logging(),
			"command:remote:Connection":      conn(true),
			"command:remote:ProxyConnection": conn(false),
		},
		"resources": jsonObj{
			"command:remote:Command": jsonObj{
				"inputProperties": remoteIns, "requiredInputs": []string{"connection"},
				"properties": outs(remoteIns, std), "required": []string{"connection", "stdout", "stderr"},
			},
			"command:local:Command": jsonObj{
				"inputProperties": localIns, "properties": localOuts, "required": []string{"stdout", "stderr"},
			},
			"command:remote:CopyToRemote": jsonObj{
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
