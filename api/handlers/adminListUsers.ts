/** Lambda entry point for the route in api/src/routes.ts whose operation is adminListUsers. */
import { lambdaHandler } from "../src/lambda";

export const handler = lambdaHandler("adminListUsers");
