// Stands in for github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3, which the bridge's
// tfgen imports at a pseudo-version the Go module proxy refuses (403). tfgen uses only the three
// C# info types (their JSON is the schema's "csharp" language section) and GenerateProgram (to
// translate docs examples into C#, which our schema does not need).
module github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3

go 1.26.6

require github.com/hashicorp/hcl/v2 v2.24.0
