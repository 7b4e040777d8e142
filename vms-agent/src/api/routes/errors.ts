/** Error responses every route may give, for the OpenAPI document and the serializer. */
import { ErrorBody } from '../schemas.js';

export const authErrors = { 401: ErrorBody, 400: ErrorBody, 500: ErrorBody } as const;
export const forbidden = { 403: ErrorBody } as const;
export const notFound = { 404: ErrorBody } as const;
export const conflict = { 409: ErrorBody, 403: ErrorBody } as const;
export const unprocessable = { 422: ErrorBody } as const;
