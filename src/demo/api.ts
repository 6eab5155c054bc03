/** Where the demo sends its requests, and the token it sends them with. */
export interface DemoApi {
  url: string;
  token: string;
}

export const authorization = (api: DemoApi) => ({ authorization: `Bearer ${api.token}` });
