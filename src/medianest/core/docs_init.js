// Starts Swagger UI on /api/docs; kept out of the page so no inline script is needed.
const target = document.getElementById("swagger-ui");
window.SwaggerUIBundle({
  url: target.dataset.openapiUrl,
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
});
