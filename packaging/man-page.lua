-- Pandoc Lua filter that makes a man page of one of Nyx's markdown docs, so
-- the docs stay the one source of truth. The doc's own title (its level-1
-- heading) gives way to the man header (title and section come as metadata),
-- its level-2 headings become the page's sections, in capitals as man pages
-- have them, and the page opens with the NAME section that whatis(1) and
-- apropos(1) read (metadata `name` and `whatis`) and ends with SEE ALSO
-- (metadata `see-also`). Tables become tagged paragraphs: tbl tables wider
-- than a terminal are what man warns about.

local stringify = pandoc.utils.stringify

local function upper(block)
  return block:walk {
    Str = function(s) return pandoc.Str(pandoc.text.upper(s.text)) end,
    Code = function(c) return pandoc.Code(pandoc.text.upper(c.text)) end,
  }
end

-- One entry per row: the first cell tagged, the others below it (each with
-- its column's heading when there are several).
function Table(table)
  local simple = pandoc.utils.to_simple_table(table)
  local items = pandoc.List()
  for _, row in ipairs(simple.rows) do
    local definition = pandoc.List()
    for column = 2, #row do
      local text = pandoc.utils.blocks_to_inlines(row[column])
      if #text > 0 then
        if #row > 2 then
          text:insert(1, pandoc.Str(stringify(simple.headers[column]) .. ': '))
        end
        definition:insert(pandoc.Plain(text))
      end
    end
    items:insert { pandoc.utils.blocks_to_inlines(row[1]), { definition } }
  end
  return pandoc.DefinitionList(items)
end

function Pandoc(doc)
  local meta = doc.meta
  local blocks = pandoc.List {
    pandoc.Header(1, 'NAME'),
    pandoc.Para(stringify(meta.name) .. ' - ' .. stringify(meta.whatis)),
  }
  for _, block in ipairs(doc.blocks) do
    if block.t ~= 'Header' then
      -- The doc's opening paragraphs, before its first section.
      if #blocks == 2 then
        blocks:insert(pandoc.Header(1, 'DESCRIPTION'))
      end
      blocks:insert(block)
    elseif block.level > 1 then
      block.level = block.level - 1
      blocks:insert(block.level == 1 and upper(block) or block)
    end
  end
  if meta['see-also'] then
    blocks:insert(pandoc.Header(1, 'SEE ALSO'))
    blocks:insert(pandoc.Para(stringify(meta['see-also'])))
  end
  return pandoc.Pandoc(blocks, meta)
end
