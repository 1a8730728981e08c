import { fuzzRouter } from "./support/fuzz.js";

fuzzRouter("sqlite");
