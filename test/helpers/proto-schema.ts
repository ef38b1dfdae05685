/** The product's own .proto files (proto/), loaded with protobufjs: the schema every codec test works from. */
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { ANALYTICS_PROTO, SIDECAR_PROTO, protoDir } from '../../src/wire/protos.js';

/** A fresh Root (callers may add fields to its types) with both files, names in camelCase as proto-loader gives them. */
export function loadProtoRoot(): protobuf.Root {
  const root = new protobuf.Root();
  // google/protobuf/*.proto come with protobufjs
  root.resolvePath = (_origin, target) => (target.startsWith('google/') ? target : join(protoDir(), target));
  root.loadSync([SIDECAR_PROTO, ANALYTICS_PROTO], { keepCase: false });
  root.resolveAll();
  return root;
}
