/* global SwaggerUIBundle */
// Renders the API's own OpenAPI document with Swagger UI (loaded just before this file
// from /docs/vendor/, a static asset of the Worker). A file rather than an inline script,
// so the page's Content-Security-Policy needs no 'unsafe-inline' for scripts.
SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  // No call to the public validator service: the page works offline.
  validatorUrl: null,
});
