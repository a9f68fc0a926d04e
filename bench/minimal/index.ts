/** The baseline of bench/startup.ts: a minimal Pulumi program with one resource, on the same runtime and mocks. */
import * as aws from "@pulumi/aws";

const bucket = new aws.s3.Bucket("minimal", { forceDestroy: false });

export const bucketName = bucket.bucket;
