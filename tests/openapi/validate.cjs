// validate.cjs - validate an OpenAPI document with @apidevtools/swagger-parser
// (usage: node validate.cjs FILE_OR_URL); exit 1 with the reasons when invalid.
const SwaggerParser = require("@apidevtools/swagger-parser");
SwaggerParser.validate(process.argv[2])
  .then((api) => {
    console.log("valid: " + api.info.title + " " + api.info.version);
  })
  .catch((err) => {
    console.error("invalid: " + err.message);
    process.exit(1);
  });
