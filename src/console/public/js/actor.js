/**
 * Who is signed in: the holder of the token, as GET /v1/me answers. The service
 * records every action under this person, so the console shows who that is
 * and sends no name of its own.
 */
import { api } from './api.js';

let me = null;

/** The signed-in person ({ name, unit, shared, role, jurisdiction }), asked once. */
export async function loadMe() {
  me ??= await api.get('/v1/me');
  return me;
}

/** The signed-in person's name ('' until GET /v1/me has answered). */
export const actorName = () => me?.name ?? '';
