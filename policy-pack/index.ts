import { PolicyPack } from "@pulumi/policy";
import { packName, policyModules } from "./pack";

// Only assembles the pack: each policy lives in its own module under policies/.
new PolicyPack(packName, {
    enforcementLevel: "mandatory",
    policies: policyModules.map((module) => module.policy),
});
