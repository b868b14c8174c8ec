package main

// Property helpers: wire (un)marshalling, the input shapes of the three resources, and Check's
// treatment of secret unknowns and defaults.

import (
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"google.golang.org/protobuf/types/known/structpb"
)

const (
	tokLocal  = "command:local:Command"
	tokRemote = "command:remote:Command"
	tokCopy   = "command:remote:CopyToRemote"
)

// The options pulumi-go-provider v1.3.0 uses in both directions (provider.go: getMap, asStruct).
// SkipNulls matters: a secret whose value is null loses its "value" key on the way out.
var wireOpts = plugin.MarshalOptions{
	KeepUnknowns:  true,
	KeepSecrets:   true,
	KeepResources: true,
	SkipNulls:     true,
}

func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	if s == nil {
		return resource.PropertyMap{}, nil
	}
	return plugin.UnmarshalProperties(s, wireOpts)
}

func marshal(m resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(m, wireOpts)
}

// shape is the type of one input property, as far as Check needs it.
type shape struct {
	kind     byte // 's' string, 'n' number, 'b' bool, 'a' array, 'm' map, 'o' object, 'x' any, 'A' asset/archive
	elem     *shape
	fields   map[string]*shape
	required []string
}

var (
	sString = &shape{kind: 's'}
	sNumber = &shape{kind: 'n'}
	sBool   = &shape{kind: 'b'}
	sAny    = &shape{kind: 'x'}
	sAsset  = &shape{kind: 'A'}
	sList   = &shape{kind: 'a', elem: sAny}
	sStrs   = &shape{kind: 'a', elem: sString}
	sEnv    = &shape{kind: 'm', elem: sString}
)

func connShape(withProxy bool) *shape {
	f := map[string]*shape{
		"host": sString, "port": sNumber, "user": sString, "password": sString,
		"privateKey": sString, "privateKeyPassword": sString, "agentSocketPath": sString,
		"dialErrorLimit": sNumber, "perDialTimeout": sNumber, "hostKey": sString,
	}
	if withProxy {
		f["proxy"] = connShape(false)
	}
	return &shape{kind: 'o', fields: f, required: []string{"host"}}
}

// Input shapes from the v1.2.1 sources: provider/pkg/provider/common/inputs.go, remote/command.go,
// remote/copy.go, local/base.go.
var inputShapes = map[string]map[string]*shape{
	tokRemote: {
		"triggers": sList, "create": sString, "update": sString, "delete": sString,
		"stdin": sString, "logging": sString, "connection": connShape(true), "environment": sEnv,
		"addPreviousOutputInEnv": sBool,
	},
	tokLocal: {
		"triggers": sList, "create": sString, "update": sString, "delete": sString,
		"stdin": sString, "logging": sString, "interpreter": sStrs, "dir": sString, "environment": sEnv,
		"assetPaths": sStrs, "archivePaths": sStrs, "addPreviousOutputInEnv": sBool,
	},
	tokCopy: {
		"connection": connShape(true), "triggers": sList, "source": sAsset, "remotePath": sString,
	},
}

func isSecretUnknown(v resource.PropertyValue) bool {
	switch {
	case v.IsSecret():
		e := v.SecretValue().Element
		return e.IsComputed() || (e.IsOutput() && !e.OutputValue().Known)
	case v.IsOutput():
		return v.OutputValue().Secret && !v.OutputValue().Known
	}
	return false
}

// zeroOf is what a secret unknown of shape s turns into in the real provider's Check.
func zeroOf(s *shape) resource.PropertyValue {
	switch s.kind {
	case 's':
		return resource.NewStringProperty("")
	case 'n':
		return resource.NewNumberProperty(0)
	case 'b':
		return resource.NewBoolProperty(false)
	case 'a':
		return resource.NewArrayProperty([]resource.PropertyValue{})
	case 'm':
		return resource.NewObjectProperty(resource.PropertyMap{})
	case 'o':
		m := resource.PropertyMap{}
		for _, k := range s.required {
			m[resource.PropertyKey(k)] = zeroOf(s.fields[k])
		}
		return resource.NewObjectProperty(m)
	}
	return resource.NewNullProperty() // 'x' (any) and assets
}

// knownSecretUnknowns reproduces what pulumi-command v1.2.1 answers in Check for a value that is
// both secret and unknown: a *known* secret holding the zero value of the property's Go type
// (null for the `any` elements of `triggers`). Read from pulumi-go-provider v1.3.0:
//   - infer/internal/ende/ende.go (walk): with sdk v3.224.0's ToResourcePropertyValue a secret
//     unknown is an Output{Element: null, Known: false, Secret: true}; its element is aligned to the
//     field's Go type (null stays null for interface{}, a string field gets "").
//   - infer/apply_secrets.go (secretsWalker.walk): the two deferred closures both assign from the
//     plain value `p`; the secret one runs last and overwrites the computed one, so the unknown
//     flag is lost and only the secret survives.
//   - provider.go asStruct marshals with SkipNulls, so secret(null) goes out as a secret object
//     without "value". The engine (pkg/resource/plugin/provider_plugin.go Check ->
//     sdk/go/propertyrpc/unmarshal.go) then fails: "triggers[0]: malformed secret: missing value".
//
// A secret unknown `stdin` thereby becomes secret(""), which the engine accepts.
func knownSecretUnknowns(v resource.PropertyValue, s *shape) resource.PropertyValue {
	if s == nil {
		s = sAny
	}
	if isSecretUnknown(v) {
		return resource.MakeSecret(zeroOf(s))
	}
	switch {
	case v.IsSecret():
		return resource.MakeSecret(knownSecretUnknowns(v.SecretValue().Element, s))
	case v.IsArray() && s.kind == 'a':
		arr := v.ArrayValue()
		out := make([]resource.PropertyValue, len(arr))
		for i, e := range arr {
			out[i] = knownSecretUnknowns(e, s.elem)
		}
		return resource.NewArrayProperty(out)
	case v.IsObject() && (s.kind == 'o' || s.kind == 'm'):
		out := resource.PropertyMap{}
		for k, e := range v.ObjectValue() {
			es := s.elem
			if s.kind == 'o' {
				es = s.fields[string(k)]
			}
			out[k] = knownSecretUnknowns(e, es)
		}
		return resource.NewObjectProperty(out)
	}
	return v
}

// withConnectionDefaults sets the defaults of remote/connection.go and proxyConnection.go
// (Annotate: user root, port 22, dialErrorLimit 10, perDialTimeout 15) where unset.
func withConnectionDefaults(v resource.PropertyValue) resource.PropertyValue {
	if v.IsSecret() {
		return resource.MakeSecret(withConnectionDefaults(v.SecretValue().Element))
	}
	if !v.IsObject() {
		return v
	}
	m := v.ObjectValue().Copy()
	def := map[resource.PropertyKey]resource.PropertyValue{
		"user":           resource.NewStringProperty("root"),
		"port":           resource.NewNumberProperty(22),
		"dialErrorLimit": resource.NewNumberProperty(10),
		"perDialTimeout": resource.NewNumberProperty(15),
	}
	for k, d := range def {
		if e, ok := m[k]; !ok || e.IsNull() {
			m[k] = d
		}
	}
	if p, ok := m["proxy"]; ok && !p.IsNull() {
		m["proxy"] = withConnectionDefaults(p)
	}
	for _, k := range []resource.PropertyKey{"password", "privateKey", "privateKeyPassword"} {
		if e, ok := m[k]; ok && !e.IsNull() && !e.IsSecret() {
			m[k] = resource.MakeSecret(e) // provider:"secret" on these fields
		}
	}
	return resource.NewObjectProperty(m)
}

// plain strips secrets (and nothing else) at every depth.
func plain(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsSecret():
		return plain(v.SecretValue().Element)
	case v.IsOutput() && v.OutputValue().Known:
		return plain(v.OutputValue().Element)
	case v.IsArray():
		arr := v.ArrayValue()
		out := make([]resource.PropertyValue, len(arr))
		for i, e := range arr {
			out[i] = plain(e)
		}
		return resource.NewArrayProperty(out)
	case v.IsObject():
		out := resource.PropertyMap{}
		for k, e := range v.ObjectValue() {
			out[k] = plain(e)
		}
		return resource.NewObjectProperty(out)
	}
	return v
}

// str returns the string at key (secrets unwrapped) and whether it is set.
func str(m resource.PropertyMap, key string) (string, bool) {
	v := plain(m[resource.PropertyKey(key)])
	if v.IsString() {
		return v.StringValue(), true
	}
	return "", false
}

func num(m resource.PropertyMap, key string, def int) int {
	v := plain(m[resource.PropertyKey(key)])
	if v.IsNumber() {
		return int(v.NumberValue())
	}
	return def
}

func boolean(m resource.PropertyMap, key string, def bool) bool {
	v := plain(m[resource.PropertyKey(key)])
	if v.IsBool() {
		return v.BoolValue()
	}
	return def
}

func obj(m resource.PropertyMap, key string) (resource.PropertyMap, bool) {
	v := plain(m[resource.PropertyKey(key)])
	if v.IsObject() {
		return v.ObjectValue(), true
	}
	return nil, false
}

func strMap(m resource.PropertyMap, key string) map[string]string {
	out := map[string]string{}
	if o, ok := obj(m, key); ok {
		for k, v := range o {
			if v.IsString() {
				out[string(k)] = v.StringValue()
			}
		}
	}
	return out
}

func strList(m resource.PropertyMap, key string) []string {
	var out []string
	v := plain(m[resource.PropertyKey(key)])
	if v.IsArray() {
		for _, e := range v.ArrayValue() {
			if e.IsString() {
				out = append(out, e.StringValue())
			}
		}
	}
	return out
}

// internalKey is true for keys the real provider drops from news before diffing (infer/resource.go diff).
func internalKey(k resource.PropertyKey) bool {
	return k == "version" || strings.HasPrefix(string(k), "__")
}
