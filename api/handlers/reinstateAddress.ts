/** Lambda entry point for the route in api/src/routes.ts whose operation is reinstateAddress. */
import { lambdaHandler } from "../src/lambda";

export const handler = lambdaHandler("reinstateAddress");
