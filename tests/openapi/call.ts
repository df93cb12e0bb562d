// call.ts - the client generated from the served docs/openapi.yaml
// (openapi-typescript-codegen, into ./client by test_openapi_tools.sh) asks
// the running server the CAMARA v0.3, v0.3rc1 and v0.2 checks and the native
// check, and an answer that is an error. Environment: BASE (http://HOST:PORT),
// APP_KEY, SAME (a number held since 2023-10-09), NEW (reissued 2024-09-21),
// OUTSIDE (in no carrier's range). Exits 1 at the first wrong answer.
import { ApiError, CamaraService, CheckService, OpenAPI } from "./client";

// node's own globals, without @types/node
declare const process: { env: Record<string, string | undefined>; exit(code: number): never };

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

function expect(what: string, got: unknown, want: unknown): void {
  if (JSON.stringify(got) !== JSON.stringify(want))
    throw new Error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  console.log(`ok ${what}`);
}

async function main(): Promise<void> {
  OpenAPI.BASE = env("BASE");
  OpenAPI.TOKEN = env("APP_KEY");
  const same = env("SAME"), reissued = env("NEW"), outside = env("OUTSIDE");

  const v03 = await CamaraService.checkNumberRecyclingV03(
    { phoneNumber: same, specifiedDate: "2023-12-22" }, "gen-v03");
  expect("v0.3 scenario 1", v03, { phoneNumberRecycled: false });
  const rc1 = await CamaraService.checkNumberRecyclingV03Rc1(
    { phoneNumber: reissued, specifiedDate: "2023-12-22" }, "gen-v03rc1");
  expect("v0.3rc1 scenario 2", rc1, { phoneNumberRecycled: true });
  const v02 = await CamaraService.checkNumberRecycling(
    { phoneNumber: reissued, specifiedDate: "2023-12-22" });
  expect("v0.2 scenario 2", v02, { phoneNumberRecycled: true });

  const native = await CheckService.checkNumber({ number: reissued, date: "2023-12-22" });
  expect("native check", native, { number: reissued, date: "2023-12-22", result: "reassigned" });

  try {
    await CamaraService.checkNumberRecyclingV03({ phoneNumber: outside, specifiedDate: "2024-01-01" });
    throw new Error("v0.3 outside every range: no error");
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    expect("v0.3 outside every range", [e.status, e.body.status, e.body.code],
           [422, 422, "SERVICE_NOT_APPLICABLE"]);
  }
}

main().catch((e: unknown) => {
  console.error(`not ok generated client: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
