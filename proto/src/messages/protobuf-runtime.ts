/**
 * Configures the protobufjs runtime before the generated code loads (schema.ts
 * imports this first):
 * - 64-bit fields decode as plain numbers, not Long objects. Every 64-bit
 *   value Backchannel sends stays below 2^53 and the codecs check it.
 * - Unknown fields are kept (`$unknowns`) and re-encoded, so a peer on an
 *   older schema relays what a newer one added.
 * These are settings of the shared protobufjs instance; nothing else in the
 * project uses protobufjs with other settings.
 */
import protobuf from 'protobufjs/minimal.js';

protobuf.util.Long = undefined as unknown as typeof protobuf.util.Long;
protobuf.configure();
protobuf.Reader.discardUnknown = false;
