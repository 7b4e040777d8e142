import { describe, expect, it } from 'vitest';
import { parseLinkUri } from '../src/transport/link-uri.js';

describe('parseLinkUri', () => {
  it.each([
    ['vm+tcp://127.0.0.1:9002', { kind: 'vm', target: { kind: 'tcp', host: '127.0.0.1', port: 9002 } }],
    ['vm+tcp://[::1]:9002', { kind: 'vm', target: { kind: 'tcp', host: '::1', port: 9002 } }],
    ['vm+unix:///run/bmc-oem/vm.sock', { kind: 'vm', target: { kind: 'unix', path: '/run/bmc-oem/vm.sock' } }],
    ['vm+serial:///dev/ttyS1?baud=115200', { kind: 'vm', target: { kind: 'serial', path: '/dev/ttyS1', baud: 115200 } }],
    ['vm+serial:///dev/ttyUSB0', { kind: 'vm', target: { kind: 'serial', path: '/dev/ttyUSB0', baud: 115200 } }],
    ['ipmi:///dev/ipmi0', { kind: 'ipmi-dev', path: '/dev/ipmi0' }],
  ])('parses %s', (uri, expected) => {
    expect(parseLinkUri(uri)).toEqual(expected);
  });

  it.each([
    ['127.0.0.1:9002', /not a URI/],
    ['vm+tcp://127.0.0.1', /needs HOST:PORT/],
    ['vm+unix://host/x', /absolute path/],
    ['vm+serial:///dev/ttyS1?baud=1234', /baud must be one of/],
    ['ipmi:///tmp/ipmi0', /device path/],
    ['http://example.com', /unsupported link scheme "http:"/],
  ])('rejects %s', (uri, message) => {
    expect(() => parseLinkUri(uri)).toThrow(message);
  });
});
