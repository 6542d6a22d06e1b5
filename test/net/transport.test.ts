/** The multicast transport on loopback: what a process receives of its group's traffic. */
import { expect, test } from "bun:test";
import { DEFAULT_CONFIG, type Config } from "../../src/config.ts";
import { joinGroup, openSender } from "../../src/net/transport.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("a process does not get its own datagrams back from the group; other processes' arrive", async () => {
  const port = 20_000 + ((process.pid * 13) % 40_000);
  const group = { address: `239.78.${process.pid % 250}.1`, port };
  const config: Config = { ...DEFAULT_CONFIG, network: { ...DEFAULT_CONFIG.network, groups: { clients: group, proposers: group, acceptors: group, learners: group } } };
  const trouble = { failed: () => {}, dropped: () => {} };
  const [self, other] = [await openSender(config, trouble), await openSender(config, trouble)];
  const got: string[] = [];
  const receiver = await joinGroup({
    config,
    group: "proposers",
    loss: 0,
    seed: 1,
    ownPort: self.port,
    onDatagram: (bytes) => got.push(new TextDecoder().decode(bytes)),
    onLossDrop: () => {},
    onError: (e) => {
      throw e;
    },
  });
  try {
    self.send("proposers", new TextEncoder().encode("mine"));
    other.send("proposers", new TextEncoder().encode("theirs"));
    for (let k = 0; k < 100 && got.length === 0; k++) await sleep(10);
    await sleep(50);
    expect(got).toEqual(["theirs"]);
  } finally {
    receiver.close();
    self.close();
    other.close();
  }
});
